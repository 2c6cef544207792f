import { describe, expect, it } from 'vitest';
import { filtersImplyAll, matchesFilters, parseFilters } from '../../src/runtime/ps/filter.js';
import { alignColumns, compileTemplate, renderTemplate } from '../../src/runtime/ps/template.js';
import { ellipsis, goTimeString, PS_FIELD_HEADERS, psRow } from '../../src/runtime/ps/view.js';
import type { ContainerRecord } from '../../src/runtime/state/record.js';

const base: ContainerRecord = {
  version: 1, id: 'abc123'.padEnd(64, '0'), shortId: 'abc123000000', name: 'web', command: ['sh', '-c', 'while true; do sleep 1; done'], rootfs: '/r.tar', imageDigest: null,
  created: '2024-01-01T00:00:00.000Z', startedAt: '2024-01-01T00:00:01.000Z', finishedAt: null, status: 'running', pid: 42, ownerPid: 41,
  exitCode: null, oomKilled: false, error: null, detached: true, keep: true, tty: false, init: false, cgroup: null, labels: { env: 'ci', 'com.example.team': 'core' },
};
const db: ContainerRecord = { ...base, id: 'def'.padEnd(64, '1'), shortId: 'def111111111', name: 'db', status: 'exited', exitCode: 3, pid: null, finishedAt: '2024-01-01T00:00:05.000Z', labels: { env: 'prod' } };
const old: ContainerRecord = { ...base, id: 'fed'.padEnd(64, '2'), shortId: 'fed222222222', name: null, labels: undefined };
const now = new Date('2024-01-01T00:01:00.000Z');
const render = (format: string, records: ContainerRecord[], trunc = true) => renderTemplate(compileTemplate(format, PS_FIELD_HEADERS), records.map((r) => psRow(r, now, { trunc, mounts: ['/src'] })), PS_FIELD_HEADERS);

describe('ps --format templates', () => {
  it('renders docker fields, one line per container', () => {
    expect(render('{{.ID}} {{.Names}} {{.State}}', [base, db])).toEqual(['abc123000000 web running', 'def111111111 db exited']);
    expect(render('{{.ID}}', [base], false)).toEqual([base.id]);
    expect(render('{{.Status}}|{{.RunningFor}}|{{.CreatedAt}}|{{.Image}}|{{.Mounts}}|{{.Pid}}', [db])).toEqual(['Exited (3) 55 seconds ago|1 minute ago|2024-01-01 00:00:00 +0000 UTC|/r.tar|/src|']);
  });
  it('quotes and truncates the command as docker does (20 characters, an ellipsis)', () => {
    expect(render('{{.Command}}', [base])).toEqual(['"sh -c while true; d…"']);
    expect(render('{{.Command}}', [base], false)).toEqual(['"sh -c while true; do sleep 1; done"']);
    expect(ellipsis('abc', 3)).toBe('abc');
    expect(ellipsis('abcd', 3)).toBe('ab…');
  });
  it('labels: all sorted, one by name, missing ones empty', () => {
    expect(render('{{.Labels}}', [base, old])).toEqual(['com.example.team=core,env=ci', '']);
    expect(render('{{.Label "env"}}/{{(.Label "com.example.team")}}/{{.Label "nope"}}', [base])).toEqual(['ci/core/']);
  });
  it('json, upper, lower, title, truncate and pipelines', () => {
    const [line] = render('{{json .}}', [base]);
    expect(JSON.parse(line!)).toMatchObject({ ID: 'abc123000000', Names: 'web', State: 'running', Labels: 'com.example.team=core,env=ci', Command: '"sh -c while true; d…"' });
    expect(render('{{json .Names}} {{upper .Names}} {{.State | upper}} {{title "a-b c"}} {{truncate .ID 4}} {{lower "AB"}}', [base])).toEqual(['"web" WEB RUNNING A-B C abc1 ab']);
  });
  it('a literal \\t is a tab, \\n a new line; spaces inside actions are fine', () => {
    expect(render('{{ .Names }}\\t{{.State}}\\n-', [base])).toEqual(['web\trunning', '-']);
  });
  it('table: a header row, docker\'s column widths (at least 20, padding 3)', () => {
    expect(render('table {{.ID}}\\t{{.Names}}\\t{{.Label "com.example.team"}}\\t{{.Status}}', [base, db])).toEqual([
      'CONTAINER ID        NAMES               TEAM                STATUS',
      'abc123000000        web                 core                Up 59 seconds',
      'def111111111        db                                      Exited (3) 55 seconds ago',
    ]);
    expect(render('table', [base])).toEqual(['', '']);
    expect(alignColumns(['a'.repeat(25) + '\tx', 'b\ty'])).toEqual(['a'.repeat(25) + '   x', 'b' + ' '.repeat(27) + 'y']);
  });
  it('rejects unknown fields, functions and broken syntax before listing anything', () => {
    for (const [format, why] of [
      ['{{.Nope}}', /can't evaluate field Nope/],
      ['{{.ID', /unclosed action/],
      ['{{nope .ID}}', /function "nope" not defined/],
      ['{{.Label}}', /\.Label needs a label name/],
      ['{{}}', /empty action/],
      ['{{truncate .ID}}', /truncate takes 2 arguments/],
      ['{{.ID | .Names}}', /must end in a function/],
      ['{{(.ID}}', /unclosed '\('/],
      ['{{"abc}}', /unterminated string/],
    ] as const) {
      expect(() => compileTemplate(format, PS_FIELD_HEADERS), format).toThrow(why);
    }
  });
  it('CreatedAt is Go\'s time.String() in UTC', () => {
    expect(goTimeString(new Date('2026-11-30T18:55:01.999Z'))).toBe('2026-11-30 18:55:01 +0000 UTC');
  });
});

describe('ps --filter', () => {
  const all = [base, db, old];
  const pick = (...texts: string[]) => all.filter((r) => matchesFilters(r, parseFilters(texts))).map((r) => r.shortId);
  it('status, name (a regular expression), id (a prefix)', () => {
    expect(pick('status=exited')).toEqual([db.shortId]);
    expect(pick('status=running')).toEqual([base.shortId, old.shortId]);
    expect(pick('status=paused')).toEqual([]);
    expect(pick('name=^w')).toEqual([base.shortId]);
    expect(pick('name=b')).toEqual([base.shortId, db.shortId]);
    expect(pick('id=def1')).toEqual([db.shortId]);
    expect(pick('id=')).toEqual(all.map((r) => r.shortId));
  });
  it('label=KEY and label=KEY=VALUE; records without labels match no label filter', () => {
    expect(pick('label=env')).toEqual([base.shortId, db.shortId]);
    expect(pick('label=env=prod')).toEqual([db.shortId]);
    expect(pick('label=com.example.team=core')).toEqual([base.shortId]);
    expect(pick('label=env=')).toEqual([]);
  });
  it('the same key is ORed, different keys ANDed; label filters must all match (docker)', () => {
    expect(pick('name=web', 'name=db')).toEqual([base.shortId, db.shortId]);
    expect(pick('name=web', 'name=db', 'status=exited')).toEqual([db.shortId]);
    expect(pick('label=env', 'label=com.example.team')).toEqual([base.shortId]);
    expect(pick('status=running', 'status=exited')).toEqual(all.map((r) => r.shortId));
  });
  it('a status filter lists stopped containers without -a, as docker', () => {
    expect(filtersImplyAll(parseFilters(['status=exited']))).toBe(true);
    expect(filtersImplyAll(parseFilters(['name=x']))).toBe(false);
  });
  it('refuses unknown keys and bad values', () => {
    expect(() => parseFilters(['ancestor=x'])).toThrow(/unknown filter 'ancestor'/);
    expect(() => parseFilters(['status=up'])).toThrow(/unknown status/);
    expect(() => parseFilters(['status'])).toThrow(/expected KEY=VALUE/);
    expect(() => parseFilters(['name=('])).toThrow(/not a regular expression/);
    expect(() => parseFilters(['id=xyz'])).toThrow(/hexadecimal/);
    expect(() => parseFilters(['label='])).toThrow(/label=KEY/);
    expect(() => parseFilters(['label==v'])).toThrow(/label=KEY/);
  });
});
