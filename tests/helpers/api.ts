/**
 * For tests of the programmatic API (src/api): the built API (dist/index.js, what
 * `import 'tsbox'` loads), and what a container could leave on the host, by its id.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { cgroupDirs } from './host-state.js';
import { testRoot } from './tsbox.js';

export const API_ENTRY = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

export type Api = typeof import('../../src/index.js');

export async function loadApi(): Promise<Api> {
  return (await import(API_ENTRY)) as Api;
}

/** Processes whose command line is exactly `args` (a marker like ['sleep', '961']). */
export function processesRunning(args: string[]): number[] {
  const want = `${args.join('\0')}\0`;
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8') === want) found.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/** What is left of container `id` (64 hex): its record, its run directory, its cgroup. */
export function leftOf(id: string, root = testRoot()): string[] {
  const short = id.slice(0, 12);
  const left: string[] = [];
  for (const dir of [join(root, 'run', 'containers', short), join(root, 'containers', short)]) if (existsSync(dir)) left.push(dir);
  for (const base of ['/sys/fs/cgroup/unified', '/sys/fs/cgroup']) {
    for (const dir of cgroupDirs(base, 3)) if (dir.endsWith(`/${short}`)) left.push(dir);
  }
  return left;
}

/** Poll until `check` holds (no fixed sleeps in assertions); fails after `ms`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
