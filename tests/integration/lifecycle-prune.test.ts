/**
 * tsbox rootfs ls|rm|prune and tsbox prune. These remove everything unused in a root, so
 * they run against a root of their own (not the suite's shared one), with two rootfs
 * archives of different content: two cache entries.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { rootfsTar, tsbox } from '../helpers/tsbox.js';

const P = `lp${process.pid}-`;
const root = join(inject('workDir'), `prune-root-${process.pid}`);
const tarA = rootfsTar();
const tarB = join(inject('workDir'), `prune-b-${process.pid}.tar`);

const t = (args: string[]) => tsbox(args, { root });
async function ok(args: string[]): Promise<string> {
  const r = await t(args);
  expect(r.stderr, args.join(' ')).toBe('');
  expect(r.code, args.join(' ')).toBe(0);
  return r.stdout;
}
async function entries(): Promise<Record<string, any>[]> {
  const out = (await ok(['rootfs', 'ls', '--format', 'json'])).trim();
  return out === '' ? [] : out.split('\n').map((l) => JSON.parse(l) as Record<string, any>);
}
const bySource = async (path: string) => (await entries()).find((e) => e.sourcePath === path);
const ls = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

beforeAll(() => {
  // The same busybox tree plus one file: another digest.
  const extra = join(inject('workDir'), `prune-extra-${process.pid}`);
  mkdirSync(extra, { recursive: true });
  writeFileSync(join(extra, 'variant-b'), 'b\n');
  copyFileSync(tarA, tarB);
  execFileSync('tar', ['-rf', tarB, '-C', extra, 'variant-b']);
});

afterAll(async () => {
  await t(['rm', '-f', `${P}run`, `${P}stopped`, `${P}s2`]);
});

describe('rootfs cache commands and prune', () => {
  it('ls shows entries and their containers; rm and prune refuse used entries; prune leaves nothing of what it removed', async () => {
    await ok(['run', '-d', '--name', `${P}run`, tarA, 'sleep', '1000']);
    await ok(['run', '--name', `${P}stopped`, tarB, 'true']);
    const a = (await bySource(tarA))!;
    const b = (await bySource(tarB))!;
    expect(a.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(b.digest).not.toBe(a.digest);
    expect(a).toMatchObject({ containers: [`${P}run`], valid: true });
    expect(b).toMatchObject({ containers: [`${P}stopped`], valid: true });
    expect(a.size).toBeGreaterThan(100_000);
    expect(Date.now() - Date.parse(a.lastUsed)).toBeLessThan(60_000);

    const table = await ok(['rootfs', 'ls']);
    expect(table).toMatch(/^DIGEST\s+SIZE\s+LAST USED\s+SOURCE\s+CONTAINERS\n/);
    expect(table).toContain(`${a.digest.slice(0, 19)}`);
    expect(table).toMatch(new RegExp(`${tarB.replace(/[.]/g, '\\.')}\\s+${P}stopped`));

    // A stopped container still uses its entry, as in docker.
    const refused = await t(['rootfs', 'rm', b.digest]);
    expect(refused.code).toBe(125);
    expect(refused.stderr).toBe(`tsbox: cannot remove ${b.digest}: used by container ${P}stopped. Remove those containers first (tsbox rm).\n`);
    expect((await t(['rootfs', 'rm', a.digest.slice(7, 20)])).code).toBe(125);
    expect(await ok(['rootfs', 'prune'])).toBe('reclaimed 0B in 0 cache entries\n');
    expect(await entries()).toHaveLength(2);

    // tsbox prune: the stopped container goes, then its entry; the running one and its entry stay.
    const pruned = await ok(['prune']);
    expect(pruned).toContain(`removed container ${P}stopped\n`);
    expect(pruned).toContain(`removed rootfs ${b.digest}\n`);
    expect(pruned).toMatch(/removed 1 container\(s\), 1 cache entry \(\S+\)\n$/);
    expect((await entries()).map((e) => e.digest)).toEqual([a.digest]);
    expect(existsSync(b.dir)).toBe(false);
    expect(readFileSync(join(root, 'rootfs', 'index.json'), 'utf8')).not.toContain(b.digest.slice(7));
    expect((await t(['ps', '-a', '--format', 'json'])).stdout).not.toContain(`${P}stopped`);
    expect((await t(['ps', '--format', 'json'])).stdout).toContain(`${P}run`);

    // rm by unique prefix once nothing uses it.
    await ok(['rm', '-f', `${P}run`]);
    await ok(['run', '--name', `${P}s2`, tarB, 'true']);
    const b2 = (await bySource(tarB))!;
    expect(await ok(['rm', `${P}s2`])).toBe(`${P}s2\n`);
    expect(await ok(['rootfs', 'rm', a.digest.slice(7, 19), b2.digest])).toBe(`${a.digest}\n${b2.digest}\n`);
    expect(await entries()).toEqual([]);
    expect(ls(join(root, 'rootfs')).filter((n) => /^[0-9a-f]{64}$/.test(n) || n.startsWith('.tmp-'))).toEqual([]);
    expect(ls(join(root, 'run', 'containers'))).toEqual([]);
    expect(ls(join(root, 'containers'))).toEqual([]);
  });

  it('rootfs prune removes every unused entry; errors are one line, 125', async () => {
    await ok(['run', tarA, 'true']); // ephemeral: no record keeps the entry
    await ok(['run', tarB, 'true']);
    expect(await entries()).toHaveLength(2);
    expect(await ok(['rootfs', 'prune'])).toMatch(/^removed sha256:\w{64}\nremoved sha256:\w{64}\nreclaimed \S+ in 2 cache entries\n$/);
    expect(await entries()).toEqual([]);

    const unknown = await t(['rootfs', 'rm', 'abcdef']);
    expect(unknown).toMatchObject({ code: 125, stderr: "tsbox: no such rootfs cache entry: abcdef. See 'tsbox rootfs ls'.\n" });
    const bad = await t(['rootfs', 'rm', 'not-a-digest']);
    expect(bad).toMatchObject({ code: 125, stderr: "tsbox: not a digest: not-a-digest. See 'tsbox rootfs ls'.\n" });
    expect(await ok(['prune'])).toBe('removed 0 container(s), 0 cache entries (0B)\n');
  });
});
