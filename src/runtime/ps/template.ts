/**
 * The subset of Go's text/template that `docker ps --format` users type:
 *
 *   {{.ID}} {{.Names}} {{.Label "com.example.k"}} {{json .}} {{json .Labels}}
 *   {{upper .Names}} {{.Names | lower}} {{truncate .ID 5}} {{(.Label "k")}}
 *   "table {{.ID}}\t{{.Status}}"   (a header row, columns aligned as docker's tabwriter)
 *
 * A literal "\t" or "\n" typed in the format becomes a tab or newline, as docker's CLI does.
 * The template is compiled once: an unknown field, function or syntax is a one-line
 * UsageError before anything is listed (Go reports it at execution; failing early gives
 * the same error when no container exists). Pure: no I/O.
 */
import { UsageError } from '../../errors.js';

/** What the template's "." is: docker's field values (strings) and the labels for .Label. */
export interface TemplateRow {
  fields: Readonly<Record<string, string>>;
  labels: Readonly<Record<string, string>>;
  /** What {{json .}} prints. */
  json: unknown;
}

type Expr =
  | { kind: 'dot' }
  | { kind: 'field'; name: string }
  | { kind: 'label'; key: string }
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'call'; fn: FunctionName; args: Expr[] };

type Part = { kind: 'text'; text: string } | { kind: 'expr'; expr: Expr };

const FUNCTIONS = ['json', 'upper', 'lower', 'title', 'truncate'] as const;
type FunctionName = (typeof FUNCTIONS)[number];

export interface CompiledTemplate {
  /** "table ..." formats print a header row and align columns. */
  table: boolean;
  parts: Part[];
}

export function compileTemplate(format: string, fieldHeaders: Readonly<Record<string, string>>): CompiledTemplate {
  let text = format;
  const table = /^table(\s|$)/.test(text);
  if (table) text = text.replace(/^table\s*/, '');
  text = text.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  const parts: Part[] = [];
  let at = 0;
  while (at < text.length) {
    const open = text.indexOf('{{', at);
    if (open < 0) {
      parts.push({ kind: 'text', text: text.slice(at) });
      break;
    }
    if (open > at) parts.push({ kind: 'text', text: text.slice(at, open) });
    const close = text.indexOf('}}', open + 2);
    if (close < 0) throw templateError(format, 'unclosed action (a "{{" without "}}")');
    const expr = parseAction(text.slice(open + 2, close).replace(/^-\s/, '').replace(/\s-$/, ''), format, fieldHeaders);
    parts.push({ kind: 'expr', expr });
    at = close + 2;
  }
  return { table, parts };
}

/** Render the rows (and the header, for a table) into the lines to print. */
export function renderTemplate(t: CompiledTemplate, rows: readonly TemplateRow[], fieldHeaders: Readonly<Record<string, string>>): string[] {
  const rendered = rows.map((row) => t.parts.map((p) => (p.kind === 'text' ? p.text : show(evaluate(p.expr, row)))).join(''));
  if (!t.table) return rendered.flatMap((r) => r.split('\n'));
  const header = t.parts.map((p) => (p.kind === 'text' ? p.text : headerOf(p.expr, fieldHeaders))).join('');
  return alignColumns([header, ...rendered].flatMap((r) => r.split('\n')));
}

/**
 * docker's table writer: Go's tabwriter with minwidth 20, padding 3, padded with spaces.
 * Every tab-terminated cell is padded to its column's width; the last cell of a line is not.
 */
export function alignColumns(lines: readonly string[]): string[] {
  const cells = lines.map((l) => l.split('\t'));
  const widths: number[] = [];
  for (const row of cells) {
    row.slice(0, -1).forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, Math.max(20, [...c].length + 3))));
  }
  return cells.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c + ' '.repeat(widths[i]! - [...c].length))).join(''));
}

function templateError(format: string, what: string): UsageError {
  return new UsageError(`invalid --format '${format}': ${what}`, { hint: 'Fields: .ID .Names .Image .Command .CreatedAt .RunningFor .Status .State .Labels .Label "KEY" .Mounts .Pid; functions: json upper lower title truncate.' });
}

// --- parsing -------------------------------------------------------------------------

type Token = { t: '(' | ')' | '|' } | { t: 'field'; name: string } | { t: 'ident'; name: string } | { t: 'string'; value: string } | { t: 'number'; value: number };

function tokenize(src: string, format: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === '|') {
      tokens.push({ t: c });
      i++;
    } else if (c === '.') {
      const m = /^\.([A-Za-z_][A-Za-z0-9_]*)?/.exec(src.slice(i))!;
      tokens.push({ t: 'field', name: m[1] ?? '' });
      i += m[0].length;
    } else if (c === '"') {
      const m = /^"((?:[^"\\]|\\.)*)"/.exec(src.slice(i));
      if (!m) throw templateError(format, 'unterminated string');
      tokens.push({ t: 'string', value: JSON.parse(m[0]) as string });
      i += m[0].length;
    } else if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) throw templateError(format, 'unterminated raw string');
      tokens.push({ t: 'string', value: src.slice(i + 1, end) });
      i = end + 1;
    } else if (/[0-9-]/.test(c)) {
      const m = /^-?\d+/.exec(src.slice(i));
      if (!m) throw templateError(format, `unexpected '${c}'`);
      tokens.push({ t: 'number', value: Number(m[0]) });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      tokens.push({ t: 'ident', name: m[0] });
      i += m[0].length;
    } else {
      throw templateError(format, `unexpected '${c}'`);
    }
  }
  return tokens;
}

function parseAction(src: string, format: string, fieldHeaders: Readonly<Record<string, string>>): Expr {
  const tokens = tokenize(src, format);
  if (tokens.length === 0) throw templateError(format, 'empty action {{}}');
  let pos = 0;
  const peek = () => tokens[pos];

  const operand = (): Expr => {
    const tok = tokens[pos++];
    if (!tok) throw templateError(format, `missing value in {{${src}}}`);
    switch (tok.t) {
      case '(': {
        const e = pipeline();
        if (tokens[pos++]?.t !== ')') throw templateError(format, `unclosed '(' in {{${src}}}`);
        return e;
      }
      case 'field':
        if (tok.name === '') return { kind: 'dot' };
        if (tok.name === 'Label') {
          const key = tokens[pos++];
          if (key?.t !== 'string') throw templateError(format, '.Label needs a label name: {{.Label "KEY"}}');
          return { kind: 'label', key: key.value };
        }
        if (!Object.hasOwn(fieldHeaders, tok.name)) throw templateError(format, `can't evaluate field ${tok.name}`);
        return { kind: 'field', name: tok.name };
      case 'string':
        return { kind: 'string', value: tok.value };
      case 'number':
        return { kind: 'number', value: tok.value };
      case 'ident':
        throw templateError(format, `function "${tok.name}" used as a value`);
      default:
        throw templateError(format, `unexpected '${tok.t}' in {{${src}}}`);
    }
  };

  const command = (piped: Expr | null): Expr => {
    const tok = peek();
    if (tok?.t === 'ident') {
      pos++;
      if (!(FUNCTIONS as readonly string[]).includes(tok.name)) throw templateError(format, `function "${tok.name}" not defined`);
      const args: Expr[] = [];
      while (pos < tokens.length && peek()!.t !== ')' && peek()!.t !== '|') args.push(operand());
      if (piped) args.push(piped);
      return checkCall({ kind: 'call', fn: tok.name as FunctionName, args }, format);
    }
    if (piped) throw templateError(format, `a pipeline must end in a function: {{${src}}}`);
    return operand();
  };

  const pipeline = (): Expr => {
    let e = command(null);
    while (peek()?.t === '|') {
      pos++;
      e = command(e);
    }
    return e;
  };

  const e = pipeline();
  if (pos < tokens.length) throw templateError(format, `unexpected text in {{${src}}}`);
  return e;
}

function checkCall(e: Extract<Expr, { kind: 'call' }>, format: string): Expr {
  const want = e.fn === 'truncate' ? 2 : 1;
  if (e.args.length !== want) throw templateError(format, `${e.fn} takes ${want} argument${want === 1 ? '' : 's'}`);
  return e;
}

// --- evaluation ----------------------------------------------------------------------

type Value = string | number | unknown;

function evaluate(e: Expr, row: TemplateRow): Value {
  switch (e.kind) {
    case 'dot':
      return row.json;
    case 'field':
      return row.fields[e.name] ?? '';
    case 'label':
      return row.labels[e.key] ?? '';
    case 'string':
      return e.value;
    case 'number':
      return e.value;
    case 'call': {
      const [a, b] = e.args.map((x) => evaluate(x, row));
      switch (e.fn) {
        case 'json':
          return JSON.stringify(a);
        case 'upper':
          return show(a).toUpperCase();
        case 'lower':
          return show(a).toLowerCase();
        case 'title':
          return show(a).replace(/(^|[^\p{L}\p{N}])(\p{L})/gu, (_, p: string, l: string) => p + l.toUpperCase());
        case 'truncate':
          return [...show(a)].slice(0, Math.max(0, Number(b))).join('');
      }
    }
  }
}

function show(v: Value): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return JSON.stringify(v);
}

/** The header a column gets: docker names each field; functions keep their argument's. */
function headerOf(e: Expr, fieldHeaders: Readonly<Record<string, string>>): string {
  switch (e.kind) {
    case 'field':
      return fieldHeaders[e.name]!;
    case 'label':
      // docker: the last dot-separated part of the key, '-' and '_' as spaces, upper case
      return (e.key.split('.').pop() ?? e.key).replace(/[-_]/g, ' ').toUpperCase();
    case 'call':
      return e.args[0] ? headerOf(e.args[0], fieldHeaders) : '';
    case 'string':
      return e.value;
    default:
      return '';
  }
}
