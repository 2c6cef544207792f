import { describe, expect, it } from 'vitest';
import { filesInOrder, formatTimestamp, frameChunk, frameRecords, LineSelector, parseDuration, parseLogTime, parsePieces, parseTimestamp, planRotation, recordPrefix, type LogPiece } from '../../src/runtime/log-format.js';
import { parseLogOpts } from '../../src/spec/log-opts.js';
import { mergeLabels, parseLabel, parseLabelFile } from '../../src/spec/labels.js';

const T0 = 1_764_528_900_123_456_789n; // 2025-11-30T18:55:00.123456789Z

describe('timestamps and durations', () => {
  it('formats RFC 3339 with nine fractional digits in UTC, and reads it back', () => {
    expect(formatTimestamp(T0)).toBe('2025-11-30T18:55:00.123456789Z');
    expect(formatTimestamp(1_000_000_000n)).toBe('1970-01-01T00:00:01.000000000Z');
    expect(parseTimestamp(formatTimestamp(T0))).toBe(T0);
  });
  it('reads RFC 3339 variants: offsets, fewer digits, no seconds, a date alone', () => {
    expect(parseTimestamp('2025-11-30T19:55:00.123456789+01:00')).toBe(T0);
    expect(parseTimestamp('2025-11-30T18:55:00.5Z')).toBe(1_764_528_900_500_000_000n);
    expect(parseTimestamp('2025-11-30T18:55Z')).toBe(1_764_528_900_000_000_000n);
    expect(parseTimestamp('2025-11-30T18:55:00+0000')).toBe(1_764_528_900_000_000_000n);
    expect(parseTimestamp('2025-11-30')).toBe(1_764_460_800_000_000_000n);
    expect(parseTimestamp('yesterday')).toBeNull();
    expect(parseTimestamp('2025-13-45T99:00:00Z')).toBeNull();
  });
  it('Go durations', () => {
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('10')).toBeNull();
    expect(parseDuration('m')).toBeNull();
    expect(parseDuration('5d')).toBeNull();
  });
  it('--since: a time, Unix seconds, or a duration ago', () => {
    const now = Date.parse('2025-11-30T19:00:00Z');
    expect(parseLogTime('2025-11-30T18:55:00.123456789Z', '--since', now)).toBe(T0);
    expect(parseLogTime('1764528900', '--since', now)).toBe(1_764_528_900_000_000_000n);
    expect(parseLogTime('1764528900.25', '--since', now)).toBe(1_764_528_900_250_000_000n);
    expect(parseLogTime('5m', '--since', now)).toBe(1_764_528_900_000_000_000n);
    expect(() => parseLogTime('soon', '--since', now)).toThrow(/invalid --since 'soon'/);
  });
});

describe('the log format (CRI: time stream F|P line)', () => {
  it('frames a chunk into one record per line, the unfinished end as P', () => {
    expect(frameChunk('stdout', Buffer.from('a\nb c\npart'), T0).toString()).toBe(
      '2025-11-30T18:55:00.123456789Z stdout F a\n2025-11-30T18:55:00.123456789Z stdout F b c\n2025-11-30T18:55:00.123456789Z stdout P part\n',
    );
    expect(frameChunk('stderr', Buffer.from('\n'), T0).toString()).toBe('2025-11-30T18:55:00.123456789Z stderr F \n');
    expect(frameChunk('stderr', Buffer.alloc(0), T0).length).toBe(0);
  });
  it('parses whole records and keeps an incomplete one; skips malformed lines', () => {
    const text = Buffer.concat([frameChunk('stdout', Buffer.from('x\n'), T0), Buffer.from('garbage\n'), frameChunk('stderr', Buffer.from('y\n'), T0 + 1n)]);
    const { pieces, rest } = parsePieces(Buffer.concat([text, Buffer.from('2025-11-30T18:55:00.1Z std')]));
    expect(pieces.map((p) => [p.stream, p.data.toString(), p.complete, p.time])).toEqual([['stdout', 'x', true, T0], ['stderr', 'y', true, T0 + 1n]]);
    expect(rest.toString()).toBe('2025-11-30T18:55:00.1Z std');
  });
  it('keeps any bytes but the newline, and spaces in lines', () => {
    const data = Buffer.from([0xff, 0x00, 0x20, 0x41, 0x0a]);
    const [p] = parsePieces(frameChunk('stdout', data, T0)).pieces;
    expect([...p!.data]).toEqual([0xff, 0x00, 0x20, 0x41]);
  });
  it('knows where each record ends (rotation happens only there)', () => {
    const { bytes, recordEnds } = frameRecords('stdout', Buffer.from('a\nbb\nc'), T0);
    expect(recordEnds.map((e) => bytes.toString('latin1', e - 2, e))).toEqual(['a\n', 'b\n', 'c\n']);
    expect(recordEnds.at(-1)).toBe(bytes.length);
  });
  it('selects whole lines (a line of several records goes or stays whole), by --since/--until, then the last --tail', () => {
    const pieces = parsePieces(Buffer.concat([
      frameChunk('stdout', Buffer.from('l0\n'), T0),
      frameChunk('stdout', Buffer.from('l1a'), T0 + 1n),
      frameChunk('stderr', Buffer.from('e2\n'), T0 + 2n),
      frameChunk('stdout', Buffer.from('l1b\nl3\n'), T0 + 3n),
    ])).pieces;
    const select = (since: bigint | null, until: bigint | null, tail: number | null) => {
      let skip = 0;
      if (tail !== null) {
        const counter = new LineSelector({ since, until }, Infinity);
        pieces.forEach((p) => counter.accept(p));
        skip = Math.max(0, counter.inRange - tail);
      }
      const sel = new LineSelector({ since, until }, skip);
      return pieces.filter((p) => sel.accept(p)).map((p: LogPiece) => p.data.toString());
    };
    expect(select(null, null, null)).toEqual(['l0', 'l1a', 'e2', 'l1b', 'l3']);
    expect(select(T0 + 1n, null, null)).toEqual(['l1a', 'e2', 'l1b', 'l3']); // l1b belongs to the line that started at T0+1
    expect(select(T0 + 2n, null, null)).toEqual(['e2', 'l3']); // l1b's line started before --since
    expect(select(null, T0 + 1n, null)).toEqual(['l0', 'l1a', 'l1b']);
    expect(select(null, null, 2)).toEqual(['e2', 'l3']);
    expect(select(null, null, 3)).toEqual(['l1a', 'e2', 'l1b', 'l3']);
    expect(select(T0 + 1n, null, 10)).toEqual(['l1a', 'e2', 'l1b', 'l3']);
    expect(select(null, null, 0)).toEqual([]);
  });
  it('--timestamps: the time at the start of each line only', () => {
    expect(recordPrefix(T0, true, true)).toBe('2025-11-30T18:55:00.123456789Z ');
    expect(recordPrefix(T0, true, false)).toBe('');
    expect(recordPrefix(T0, false, true)).toBe('');
  });
});

describe('rotation', () => {
  it('drops the oldest, shifts the rest, the current becomes .1', () => {
    expect(planRotation('/d/container.log', 3)).toEqual([
      { op: 'unlink', path: '/d/container.log.2' },
      { op: 'rename', from: '/d/container.log.1', to: '/d/container.log.2' },
      { op: 'rename', from: '/d/container.log', to: '/d/container.log.1' },
    ]);
    expect(planRotation('/d/container.log', 2)).toEqual([{ op: 'unlink', path: '/d/container.log.1' }, { op: 'rename', from: '/d/container.log', to: '/d/container.log.1' }]);
    expect(planRotation('/d/container.log', 1)).toEqual([{ op: 'unlink', path: '/d/container.log' }]);
  });
  it('reads the files oldest first (numbers compared as numbers)', () => {
    expect(filesInOrder('/d/container.log', ['container.log', 'container.log.1', 'container.log.10', 'container.log.2', 'container.log.x', 'state.json'], 'container.log')).toEqual([
      '/d/container.log.10', '/d/container.log.2', '/d/container.log.1', '/d/container.log',
    ]);
  });
  it('--log-opt: max-size and max-file, repeated or comma-separated; docker\'s default is unlimited', () => {
    expect(parseLogOpts([])).toEqual({ maxSize: null, maxFile: 1 });
    expect(parseLogOpts(['max-size=10m', 'max-file=3'])).toEqual({ maxSize: 10 * 1024 * 1024, maxFile: 3 });
    expect(parseLogOpts(['max-size=1k,max-file=2'])).toEqual({ maxSize: 1024, maxFile: 2 });
    expect(parseLogOpts(['max-size=512'])).toEqual({ maxSize: 512, maxFile: 1 });
    expect(() => parseLogOpts(['max-file=3'])).toThrow(/max-file needs max-size/);
    expect(() => parseLogOpts(['max-size=10m', 'max-file=0'])).toThrow(/max-file=0/);
    expect(() => parseLogOpts(['max-size=lots'])).toThrow(/max-size/);
    expect(() => parseLogOpts(['compress=true'])).toThrow(/unknown --log-opt 'compress=true'/);
  });
});

describe('labels', () => {
  it('KEY=VALUE, KEY alone (empty value), = in values; files with comments; flags override files', () => {
    expect(parseLabel('env=ci')).toEqual(['env', 'ci']);
    expect(parseLabel('flag')).toEqual(['flag', '']);
    expect(parseLabel('url=a=b')).toEqual(['url', 'a=b']);
    expect(() => parseLabel('=x')).toThrow(/label name is empty/);
    expect(() => parseLabel('a b=c')).toThrow(/white space/);
    const fromFile = parseLabelFile('# comment\n\nteam=core\r\nenv=file\n', 'l.txt');
    expect(fromFile).toEqual([['team', 'core'], ['env', 'file']]);
    expect(mergeLabels(fromFile, [['env', 'flag']])).toEqual({ team: 'core', env: 'flag' });
    expect(() => parseLabelFile('ok=1\n=bad\n', 'l.txt')).toThrow(/label in l.txt line 2/);
  });
});

describe('the log writer (container-log.ts) against a temp dir', () => {
  it('rotates between records only, keeps max-file files, each at most max-size unless one record is bigger', async () => {
    const { mkdtempSync, readdirSync, readFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { openContainerLog } = await import('../../src/runtime/container-log.js');
    const dir = mkdtempSync(join(tmpdir(), 'tsbox-log-'));
    try {
      let t = T0;
      const log = openContainerLog(join(dir, 'container.log'), { maxSize: 200, maxFile: 3 }, () => t++);
      for (let i = 0; i < 30; i++) log.write(i % 2 ? 'stderr' : 'stdout', Buffer.from(`line ${i}\n`));
      log.write('stdout', Buffer.from(`${'x'.repeat(300)}\n`)); // bigger than max-size: alone in its file
      log.write('stdout', Buffer.from('a\nb\nc'));
      log.close();
      expect(readdirSync(dir).sort()).toEqual(['container.log', 'container.log.1', 'container.log.2']);
      const files = ['container.log.2', 'container.log.1', 'container.log'].map((f) => readFileSync(join(dir, f)));
      for (const f of files) expect(f[f.length - 1]).toBe(0x0a); // whole records
      expect(files[1]!.toString()).toMatch(/^\S+ stdout F x{300}\n$/);
      expect(files[2]!.toString().split('\n').map((l) => l.split(' ').slice(1).join(' '))).toEqual(['stdout F a', 'stdout F b', 'stdout P c', '']);
      for (const f of [files[0]!, files[2]!]) expect(f.length).toBeLessThanOrEqual(200);
      // the oldest kept file ends with the last small lines, in order
      const kept = parsePieces(files[0]!).pieces.map((p) => p.data.toString());
      expect(kept.at(-1)).toBe('line 29');
      expect(kept).toEqual(kept.map((_, i) => `line ${30 - kept.length + i}`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
