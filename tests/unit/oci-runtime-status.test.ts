/**
 * A tsbox-runtime container's status as `state` and every command read it: "creating" while
 * the record create wrote before the init's setup says so and the init lives, "stopped" once
 * the init is gone (a create that died part way: delete removes it), then created/running by
 * the exec fifo. Our own process stands in for the init (its real start time).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processStartTime } from '../../src/container/process-start.js';
import { parseRecord } from '../../src/oci/runtime/record.js';
import { StateRoot, type ContainerRecord } from '../../src/oci/runtime/state-dir.js';
import { stateDocument, statusOf } from '../../src/oci/runtime/status.js';

const dir = mkdtempSync(join(tmpdir(), 'tsbox-oci-status-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const state = new StateRoot(dir);

const record = (more: Partial<ContainerRecord> = {}): ContainerRecord => ({
  ociVersion: '1.0.2', id: 'c1', bundle: '/b', rootfs: '/b/rootfs', pid: process.pid, pidStartTime: processStartTime(process.pid)!,
  created: 'now', cgroup: null, cgroupParents: [], annotations: {}, terminal: false, ...more,
});

describe('statusOf', () => {
  it('creating while the provisional record\'s init lives; stopped once it is gone', () => {
    mkdirSync(join(dir, 'c1'), { recursive: true });
    writeFileSync(join(dir, 'c1', 'exec.fifo'), '');
    expect(statusOf(state, record({ creating: true }))).toBe('creating');
    expect(stateDocument(state, record({ creating: true }))).toMatchObject({ status: 'creating', pid: process.pid });
    expect(statusOf(state, record({ creating: true, pidStartTime: '1' }))).toBe('stopped');
    expect(statusOf(state, record())).toBe('created');
    rmSync(join(dir, 'c1', 'exec.fifo'));
    expect(statusOf(state, record())).toBe('running');
  });

  it('the record keeps creating only as true', () => {
    expect(parseRecord(record({ creating: true }))?.creating).toBe(true);
    expect(parseRecord({ ...record(), creating: false })).toBeNull();
    expect(parseRecord(record())).not.toBeNull();
    expect(parseRecord(record())!.creating).toBeUndefined();
  });
});
