/**
 * Issue #10.5: a `:ro` volume must never end up writable, whatever another container does
 * to a shared volume while this one starts.
 *
 * The attack, as a second container (here: a host process, which is faster still) runs it:
 * the victim mounts a shared directory S at /vol and a read-only volume R at /vol/x; the
 * attacker swaps S/x between a directory and a symlink (`../dev/shm`) with
 * renameat2(RENAME_EXCHANGE) in a tight loop. A runtime that resolves /vol/x twice (once
 * for the bind, once for the read-only remount) binds R on the directory and then makes
 * whatever the symlink leads to read-only (/dev/shm, a mount root in the container): R
 * stays writable. tsbox resolves the target once and makes the bind read-only before it is
 * attached, so every start must show R read-only, wherever the attacker made it land.
 *
 * Each start reports the container's mount table and tries to write into every place R is
 * mounted; the host then checks R itself (the ground truth) and the table: R read-only at
 * every mount, and nothing of the host outside S and R mounted from the scratch directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { rootfsTar, tsbox } from '../helpers/tsbox.js';

const STARTS = 60;
const FLIPPER = fileURLToPath(new URL('../helpers/exchange-flipper.cjs', import.meta.url));
const KOFFI = fileURLToPath(new URL('../../node_modules/koffi', import.meta.url));

let scratch: string;
let flipper: ChildProcess | null = null;

beforeAll(() => {
  scratch = mkdtempSync(join(inject('workDir'), 'ro-race-'));
});

afterAll(() => {
  flipper?.kill('SIGKILL');
  rmSync(scratch, { recursive: true, force: true });
});

interface Mount {
  root: string;
  mountPoint: string;
  options: string[];
}

function parseMountinfo(text: string): Mount[] {
  return text.split('\n').filter((l) => / - /.test(l)).map((line) => {
    const f = line.split(' ');
    return { root: f[3]!, mountPoint: f[4]!, options: f[5]!.split(',') };
  });
}

function startFlipper(a: string, b: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [FLIPPER, KOFFI, a, b], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`the flipper exited (${code})`)));
    createInterface({ input: child.stdout! }).once('line', () => resolve(child));
  });
}

describe(':ro volume target swapped by another container during start (#10.5)', () => {
  it(`stays read-only in ${STARTS} starts out of ${STARTS}`, async () => {
    const shared = join(scratch, 'shared');
    const ro = join(scratch, 'ro-src');
    mkdirSync(join(shared, 'x'), { recursive: true });
    symlinkSync('../dev/shm', join(shared, 'x-link'));
    mkdirSync(ro);
    writeFileSync(join(ro, 'kept'), 'read-only volume\n');
    // R's mounts are recognised by their root (the path inside its filesystem), not by a
    // mount point the attacker may move: it ends with ".../ro-race-XXXX/ro-src".
    const roSuffix = `/${basename(scratch)}/ro-src`;
    const probe = [
      'cat /proc/self/mountinfo',
      `for mp in $(grep " [^ ]*${roSuffix} " /proc/self/mountinfo | cut -d" " -f5); do touch "$mp/written-$$" 2>/dev/null && echo "WROTE $mp"; done`,
      'true',
    ].join('; ');

    flipper = await startFlipper(join(shared, 'x'), join(shared, 'x-link'));
    const outcome = { readOnly: 0, writable: 0, refused: 0, redirected: 0, outside: [] as string[] };
    for (let i = 0; i < STARTS; i++) {
      const r = await tsbox(['run', '-v', `${shared}:/vol`, '-v', `${ro}:/vol/x:ro`, rootfsTar(), '/bin/sh', '-c', probe]);
      if (r.code === 125) {
        // A start may be refused (one line), never half-made.
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        outcome.refused++;
        console.log(`refused: ${r.stderr.trim()}`);
        continue;
      }
      expect(r.code, r.stderr).toBe(0);
      const mounts = parseMountinfo(r.stdout);
      const roMounts = mounts.filter((m) => m.root.endsWith(roSuffix));
      expect(roMounts.length, r.stdout).toBeGreaterThan(0);
      // The kernel's view (the mount's own flags) and the host's (did a file land in R?).
      // "WROTE" lines alone prove nothing: the attacker may have turned the path into its
      // symlink (to the container's writable /dev/shm) between the mount table and the write.
      const landed = readdirSync(ro).filter((f) => f !== 'kept');
      for (const f of landed) rmSync(join(ro, f));
      if (roMounts.some((m) => m.options.includes('rw')) || landed.length > 0) {
        outcome.writable++;
        console.log(`writable: ${JSON.stringify(roMounts)}; written into the volume: ${landed.join(' ') || 'nothing'}`);
      }
      else outcome.readOnly++;
      if (roMounts.some((m) => m.mountPoint === '/dev/shm')) outcome.redirected++;
      // Nothing from the scratch directory other than the two volumes may be mounted.
      for (const m of mounts) {
        const under = m.root.indexOf(`/${basename(scratch)}`);
        if (under < 0) continue;
        const rel = m.root.slice(under + basename(scratch).length + 1);
        if (rel !== '/shared' && rel !== '/ro-src') outcome.outside.push(`${m.root} on ${m.mountPoint}`);
      }
    }
    flipper.kill('SIGKILL');
    flipper = null;

    console.log(`:ro race, ${STARTS} starts: ${JSON.stringify(outcome)}`);
    expect(outcome.writable).toBe(0);
    expect(outcome.outside).toEqual([]);
    // The attacker did interfere (some starts followed its symlink), and most starts ran.
    expect(outcome.redirected).toBeGreaterThan(0);
    expect(outcome.readOnly).toBeGreaterThan(STARTS / 2);
  }, 600_000);
});


