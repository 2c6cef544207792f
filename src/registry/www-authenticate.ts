/**
 * The WWW-Authenticate challenge of a 401 (RFC 7235): `Bearer realm="...",service="...",scope="..."`
 * or `Basic realm="..."`. Pure. Several challenges in one header are split; the first
 * scheme tsbox knows is used by the caller.
 */

export interface Challenge {
  scheme: string; // lower-case: "bearer", "basic"
  params: Record<string, string>;
}

export function parseWwwAuthenticate(header: string | string[] | undefined): Challenge[] {
  const text = Array.isArray(header) ? header.join(', ') : header ?? '';
  const out: Challenge[] = [];
  let i = 0;
  const n = text.length;
  const skipSpace = () => {
    while (i < n && (text[i] === ' ' || text[i] === '\t')) i++;
  };
  const token = () => {
    const start = i;
    while (i < n && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(text[i]!)) i++;
    return text.slice(start, i);
  };
  while (i < n) {
    skipSpace();
    while (i < n && text[i] === ',') {
      i++;
      skipSpace();
    }
    const scheme = token();
    if (scheme === '') {
      i++; // an unexpected character: skip it rather than loop
      continue;
    }
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: {} };
    out.push(challenge);
    // auth-params: name=value pairs separated by commas, until the next scheme (a token not followed by "=").
    for (;;) {
      skipSpace();
      const save = i;
      const name = token();
      skipSpace();
      if (name === '' || text[i] !== '=') {
        i = save;
        break;
      }
      i++; // '='
      skipSpace();
      let value = '';
      if (text[i] === '"') {
        i++;
        while (i < n && text[i] !== '"') {
          if (text[i] === '\\' && i + 1 < n) i++;
          value += text[i];
          i++;
        }
        i++; // closing quote
      } else {
        const start = i;
        while (i < n && text[i] !== ',' && text[i] !== ' ') i++;
        value = text.slice(start, i);
      }
      challenge.params[name.toLowerCase()] = value;
      skipSpace();
      if (text[i] === ',') i++;
      else break;
    }
  }
  return out;
}
