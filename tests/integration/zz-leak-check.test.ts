/**
 * Runs last (see the sequencer in vitest.config.ts): after every other test, the host has
 * no mount, cgroup, network link, named netns, nft table, lease or state entry of tsbox's
 * that it did not have before the suite (the default network's bridge, which stays up
 * between containers, is taken down first: host-state.ts takeDownDefaultNetwork). A
 * failing test, not a teardown error: vitest does not fail the run for errors in a global
 * teardown.
 */
import { expect, inject, it } from 'vitest';
import { leaksBetween, snapshotHost, takeDownDefaultNetwork, type HostState } from '../helpers/host-state.js';

it('leaves nothing of tsbox on the host after the whole suite', async () => {
  const before = inject('hostStateBefore') as HostState;
  // Containers of the last tests may still be exiting: give teardown a moment before judging.
  let leaks: string[] = [];
  for (let i = 0; i < 20; i++) {
    // The default bridge stays up between containers by design; the suite's end takes it down.
    takeDownDefaultNetwork(before, inject('tsboxRoot'));
    leaks = leaksBetween(before, snapshotHost(inject('tsboxRoot')));
    if (leaks.length === 0) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  expect(leaks).toEqual([]);
});
