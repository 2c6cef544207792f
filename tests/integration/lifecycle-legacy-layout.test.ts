/**
 * State written by the previous tsbox, which kept each container in two trees: its record
 * (state.json, spec.json, container.log, owner.lock) under <root>/run/containers/<id> (the
 * state dir of a root other than the default one), and its run's directory (lock,
 * resources.json, upper...) under <root>/containers/<id>. This version keeps one directory
 * per container; the old records are moved in when listed (runtime/state/legacy.ts), or left
 * in place and named in one line.
 *
 * The fixture is made the way the previous version made it: a stopped named container, its
 * files moved to where the previous version kept them.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rootfsTar, testRoot, tsbox } from '../helpers/tsbox.js';

const P = `ll${process.pid}-`;
const legacyDir = (short: string) => join(testRoot(), 'run', 'containers', short);
const currentDir = (short: string) => join(testRoot(), 'containers', short);

async function ok(args: string[]): Promise<string> {
  const r = await tsbox(args);
  expect(r.stderr, args.join(' ')).toBe('');
  expect(r.code, args.join(' ')).toBe(0);
  return r.stdout;
}

/** A stopped named container, laid out as the previous version left it. */
async function legacyStoppedContainer(name: string, script: string): Promise<string> {
  const id = (await ok(['run', '-d', '--name', name, rootfsTar(), 'sh', '-c', script])).trim();
  await ok(['wait', name]);
  const short = id.slice(0, 12);
  const from = currentDir(short);
  const to = legacyDir(short);
  mkdirSync(to, { recursive: true });
  for (const file of ['state.json', 'spec.json', 'container.log']) renameSync(join(from, file), join(to, file));
  // The previous version's spec named its own state dir; its lock was owner.lock.
  const spec = JSON.parse(readFileSync(join(to, 'spec.json'), 'utf8')) as { invocation: { stateDir: string } };
  spec.invocation.stateDir = join(testRoot(), 'run');
  writeFileSync(join(to, 'spec.json'), JSON.stringify(spec));
  writeFileSync(join(to, 'owner.lock'), '');
  rmSync(from, { recursive: true });
  return short;
}

describe('a stopped named container of the previous version', () => {
  it('is listed, its log read, started again from its config, and removed; nothing stays in the old tree', async () => {
    const short = await legacyStoppedContainer(`${P}a`, 'echo from-the-old-life');
    expect(existsSync(currentDir(short))).toBe(false);

    expect(await ok(['ps', '-a'])).toMatch(new RegExp(`${short}\\s+${P}a\\s+.*Exited \\(0\\)`));
    // Moved into its one directory, with a lock of this version's; the old entry is gone.
    expect(existsSync(legacyDir(short))).toBe(false);
    expect(readdirSync(currentDir(short)).sort()).toEqual(['container.log', 'lock', 'spec.json', 'state.json']);
    expect(await ok(['logs', `${P}a`])).toBe('from-the-old-life\n');

    // Its config is this version's to run: a new life under the same id, name and log.
    await ok(['start', `${P}a`]);
    expect(await ok(['wait', `${P}a`])).toBe('0\n');
    expect(await ok(['logs', `${P}a`])).toBe('from-the-old-life\nfrom-the-old-life\n');
    expect(existsSync(legacyDir(short))).toBe(false);

    expect(await ok(['rm', `${P}a`])).toBe(`${P}a\n`);
    expect(existsSync(currentDir(short))).toBe(false);
  });

  it('one still held by a previous tsbox is left where it is, named in one line, and moved once that ends', async () => {
    const short = await legacyStoppedContainer(`${P}b`, 'true');
    // A stand-in for the previous version's holder: one process that keeps the owner.lock flocked.
    const holder = spawn('sh', ['-c', 'exec 9>>"$1"; flock -x 9; echo locked; exec sleep 300', 'sh', join(legacyDir(short), 'owner.lock')], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout!.once('data', () => resolve());
        holder.once('exit', () => reject(new Error('the lock holder exited')));
      });
      const ps = await tsbox(['ps', '-a']);
      expect(ps.code).toBe(0);
      expect(ps.stdout).not.toContain(short);
      expect(ps.stderr.trim().split('\n')).toEqual([`tsbox: warning: container ${short} is run by a previous tsbox (its record is ${legacyDir(short)}); it is listed once that run ends`]);
      expect(existsSync(join(legacyDir(short), 'state.json'))).toBe(true);
    } finally {
      holder.kill('SIGKILL');
      await new Promise((r) => holder.once('exit', r));
    }
    expect(await ok(['ps', '-a'])).toMatch(new RegExp(`${short}\\s+${P}b\\s+.*Exited \\(0\\)`));
    await ok(['rm', `${P}b`]);
    expect(existsSync(legacyDir(short))).toBe(false);
  });
});
