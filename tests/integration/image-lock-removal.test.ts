/**
 * Removing per-archive lock files (rootfs/.locks) while other processes take them: the
 * lock must still exclude. Two takers and a remover hammer one lock path, in separate
 * processes (flock is per open file); a taker that ends up holding a lock on an unlinked
 * inode while the other holds the new file would be inside the critical section with it.
 * Uses the built dist/image/locks.js (npm run build), as the CLI does.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const locks = fileURLToPath(new URL('../../dist/image/locks.js', import.meta.url));
const dir = mkdtempSync('/var/tmp/tsbox-lock-race-');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const taker = `
  import { openSync, closeSync, unlinkSync, constants } from 'node:fs';
  const { lockFile, unlock } = await import(process.argv[1]);
  const [path, marker, rounds] = [process.argv[2], process.argv[3], Number(process.argv[4])];
  let violations = 0;
  for (let i = 0; i < rounds; i++) {
    const lock = await lockFile(path);
    try {
      closeSync(openSync(marker, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY));
    } catch {
      violations++; // someone else is inside while we hold "the" lock
      unlock(lock);
      continue;
    }
    const until = performance.now() + 0.2;
    while (performance.now() < until);
    unlinkSync(marker);
    unlock(lock);
  }
  process.stdout.write(JSON.stringify({ violations }));
`;
const remover = `
  const { removeLockFile } = await import(process.argv[1]);
  const [path, rounds] = [process.argv[2], Number(process.argv[3])];
  let removed = 0;
  for (let i = 0; i < rounds; i++) if (removeLockFile(path)) removed++;
  process.stdout.write(JSON.stringify({ removed }));
`;

function node(code: string, args: string[]): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code, locks, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => (status === 0 ? resolve(JSON.parse(out) as Record<string, number>) : reject(new Error(`child exited ${status}: ${out}`))));
  });
}

describe('removing a lock file while others take it', () => {
  it('never lets two processes hold the lock at once, and the remover does remove it', async () => {
    const path = join(dir, 'archive.lock');
    const marker = join(dir, 'inside');
    const [a, b, r] = await Promise.all([node(taker, [path, marker, '1500']), node(taker, [path, marker, '1500']), node(remover, [path, '20000'])]);
    expect(a!.violations + b!.violations).toBe(0);
    expect(r!.removed).toBeGreaterThan(0);
  }, 120_000);
});
