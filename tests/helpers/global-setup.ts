/**
 * Once per test run: a private state root and a busybox rootfs tarball for the
 * integration tests, and the host snapshot the leak check (tests/integration/
 * zz-leak-check.test.ts, run last) compares against. The teardown checks once more and
 * reports, but only a failing test fails a vitest run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildRootfsFromHost } from '../../src/image/from-host.js';
import { leaksBetween, snapshotHost, takeDownDefaultNetwork, type HostState } from './host-state.js';

let workDir: string;
let root: string;
let before: HostState;

export async function setup(project: TestProject): Promise<void> {
  workDir = mkdtempSync('/var/tmp/tsbox-test-');
  root = join(workDir, 'root');
  const rootfsTar = join(workDir, 'busybox.tar');
  await buildRootfsFromHost(rootfsTar, {});
  project.provide('tsboxRoot', root);
  project.provide('rootfsTar', rootfsTar);
  project.provide('workDir', workDir);
  before = snapshotHost(root);
  project.provide('hostStateBefore', before);
}

export async function teardown(): Promise<void> {
  takeDownDefaultNetwork(before, root);
  const after = snapshotHost(root);
  const leaks = leaksBetween(before, after);
  rmSync(workDir, { recursive: true, force: true });
  if (leaks.length > 0) {
    throw new Error(`tsbox left resources on the host after the test run:\n  ${leaks.join('\n  ')}`);
  }
}
