// The state record's check (src/oci/runtime/record.ts): what zod's schema accepted and
// refused before, field by field, so that a damaged state.json is still "damaged".
import { describe, expect, it } from 'vitest';
import { parseRecord } from '../../src/oci/runtime/record.js';

const record = {
  ociVersion: '1.0.2', id: 'c1', bundle: '/b', rootfs: '/b/rootfs', pid: 5, pidStartTime: '123', created: '2026-01-01T00:00:00.000Z',
  cgroup: '/sys/fs/cgroup/x', cgroupParents: ['/sys/fs/cgroup/p'], annotations: { a: 'b' }, terminal: false,
};
const hook = { path: '/bin/h', args: ['h'], env: [], timeoutSeconds: null };

describe('the state record check', () => {
  it('accepts what create writes, with and without hooks, and returns it whole', () => {
    expect(parseRecord(record)).toEqual(record);
    expect(parseRecord({ ...record, cgroup: null, cgroupParents: [] })).toEqual({ ...record, cgroup: null, cgroupParents: [] });
    const hooks = { poststart: [hook], poststop: [{ ...hook, timeoutSeconds: 3 }] };
    expect(parseRecord({ ...record, hooks })).toEqual({ ...record, hooks });
    expect(parseRecord({ ...record, creating: true })).toEqual({ ...record, creating: true });
    // It survives the JSON round trip state.json is.
    expect(parseRecord(JSON.parse(JSON.stringify(record)))).toEqual(record);
  });

  it.each([
    ['not an object', null],
    ['an array', [record]],
    ['a missing field', (({ pid: _, ...r }) => r)(record)],
    ['a pid of 0', { ...record, pid: 0 }],
    ['a negative pid', { ...record, pid: -1 }],
    ['a fractional pid', { ...record, pid: 1.5 }],
    ['a pid as a string', { ...record, pid: '5' }],
    ['a start time as a number', { ...record, pidStartTime: 123 }],
    ['a cgroup of the wrong type', { ...record, cgroup: 3 }],
    ['a parent that is not a string', { ...record, cgroupParents: [1] }],
    ['an annotation value that is not a string', { ...record, annotations: { a: 1 } }],
    ['annotations as an array', { ...record, annotations: ['a'] }],
    ['terminal as a string', { ...record, terminal: 'false' }],
    ['an unknown field', { ...record, extra: 1 }],
    ['a hook with a relative path', { ...record, hooks: { poststart: [{ ...hook, path: 'bin/h' }], poststop: [] } }],
    ['a hook without args', { ...record, hooks: { poststart: [{ ...hook, args: [] }], poststop: [] } }],
    ['a hook with a zero timeout', { ...record, hooks: { poststart: [{ ...hook, timeoutSeconds: 0 }], poststop: [] } }],
    ['a hook with an unknown field', { ...record, hooks: { poststart: [{ ...hook, x: 1 }], poststop: [] } }],
    ['hooks missing a phase', { ...record, hooks: { poststart: [] } }],
    ['creating: false (the flag is true or absent)', { ...record, creating: false }],
    ['creating as a string', { ...record, creating: 'true' }],
  ])('refuses %s', (_what, value) => {
    expect(parseRecord(value)).toBeNull();
  });
});
