/**
 * The tested tutorial's convention (docs/how-containers-work.md), parsed and matched here.
 *
 * A fenced block opened with ```sh tutorial is run; any other block is only read. Inside it:
 *   $ COMMAND        run with bash as root, stdout and stderr together, in the lessons'
 *                    working directory (blocks share it, in document order)
 *   a line           the next output line must match it: literally, except that runs of
 *                    spaces match any run of whitespace, <name> (lower case) matches one token
 *                    (the shortest run of non-blanks that lets the line match; the same <name>
 *                    twice in a block must be the same
 *                    value), and "..." inside a line matches any text
 *   ...              alone on a line: any number of output lines
 *   [exit N]         last: the command's exit status (0 when absent)
 * A command without expected lines must only exit as told.
 *
 * Attributes after "tutorial": needs=explain (tsbox run --explain), needs=vm (the qemu VM of
 * tests/vm), needs=runtime (bin/tsbox-runtime), host=hybrid or host=unified (the cgroup v2
 * root without or with the memory controller): a block runs only where that holds.
 */
export interface TutorialCommand {
  command: string;
  expected: string[];
  exit: number;
  /** 1-based line of the `$` line in the document. */
  line: number;
}

export interface TutorialBlock {
  attrs: Record<string, string>;
  commands: TutorialCommand[];
  line: number;
  /** The heading the block is under ("Lesson 1: ..."). */
  section: string;
}

export function parseTutorial(markdown: string): TutorialBlock[] {
  const lines = markdown.split('\n');
  const blocks: TutorialBlock[] = [];
  let section = '';
  for (let i = 0; i < lines.length; i++) {
    const heading = /^#{1,3} (.*)/.exec(lines[i]!);
    if (heading) section = heading[1]!;
    const open = /^```sh tutorial\b(.*)$/.exec(lines[i]!);
    if (!open) {
      // Skip other fenced blocks whole: a "# " inside one is not a heading.
      if (/^```/.test(lines[i]!)) while (++i < lines.length && !/^```\s*$/.test(lines[i]!));
      continue;
    }
    const attrs = Object.fromEntries(open[1]!.trim().split(/\s+/).filter(Boolean).map((a) => a.split('=', 2) as [string, string]));
    const block: TutorialBlock = { attrs, commands: [], line: i + 1, section };
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) {
      const l = lines[i]!;
      if (l.startsWith('$ ')) block.commands.push({ command: l.slice(2), expected: [], exit: 0, line: i + 1 });
      else {
        const cmd = block.commands.at(-1);
        if (!cmd) throw new Error(`line ${i + 1}: output before any "$ " command`);
        const exit = /^\[exit (\d+)\]$/.exec(l);
        if (exit) cmd.exit = Number(exit[1]);
        else cmd.expected.push(l);
      }
    }
    if (i >= lines.length) throw new Error(`line ${block.line}: the block is not closed`);
    blocks.push(block);
  }
  return blocks;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Whether `actual` (output lines) matches `expected` (the document's lines); `bound` keeps the
 * values of <name>s across a block. Returns null on a match, else what did not match.
 */
export function matchOutput(expected: readonly string[], actual: readonly string[], bound: Map<string, string>): string | null {
  const fail = (why: string) => `${why}\n--- expected\n${expected.join('\n')}\n--- got\n${actual.join('\n')}`;
  const go = (e: number, a: number, names: Map<string, string>): Map<string, string> | null => {
    if (e === expected.length) return a === actual.length ? names : null;
    if (expected[e] === '...') {
      for (let k = a; k <= actual.length; k++) {
        const r = go(e + 1, k, names);
        if (r) return r;
      }
      return null;
    }
    if (a === actual.length) return null;
    const next = matchLine(expected[e]!, actual[a]!, names);
    return next ? go(e + 1, a + 1, next) : null;
  };
  const result = go(0, 0, bound);
  if (!result) return fail('the output does not match');
  for (const [k, v] of result) bound.set(k, v);
  return null;
}

/** One line: the new bindings if it matches, else null. */
export function matchLine(expected: string, actual: string, names: Map<string, string>): Map<string, string> | null {
  const order: string[] = [];
  let re = '';
  for (const part of expected.trimEnd().split(/(<[a-z][a-z0-9' _-]*>|\.\.\.| +)/)) {
    if (part === '') continue;
    if (part === '...') re += '.*';
    else if (/^ +$/.test(part)) re += '\\s+';
    else if (/^<[a-z][a-z0-9' _-]*>$/.test(part)) {
      const name = part.slice(1, -1);
      if (names.has(name)) re += escapeRe(names.get(name)!);
      else if (order.includes(name)) re += `\\k<g${order.indexOf(name)}>`;
      else {
        re += `(?<g${order.length}>\\S+?)`;
        order.push(name);
      }
    } else re += escapeRe(part);
  }
  const m = new RegExp(`^${re}$`).exec(actual.trimEnd());
  if (!m) return null;
  const next = new Map(names);
  order.forEach((name, i) => next.set(name, m.groups![`g${i}`]!));
  return next;
}
