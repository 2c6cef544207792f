/**
 * linux.cgroupsPath -> where the container's cgroup v2 group goes. Pure.
 *
 *  - absent: tsbox chooses (its own parent and the container's id): { kind: 'default' }.
 *  - "/a/b": relative to the root of the cgroup v2 hierarchy (containerd's "/k8s.io/ID",
 *    podman's "/libpod_parent/libpod-ID"): { kind: 'path', path: '/a/b' }.
 *  - "a/b": the spec leaves a relative path to the runtime; tsbox puts it under its own
 *    parent group: { kind: 'relative', path: 'a/b' }.
 *  - with --systemd-cgroup, systemd's "SLICE:PREFIX:NAME": tsbox has no systemd manager,
 *    so it is MAPPED to the path systemd would use and the group is made directly in
 *    cgroupfs: "kubepods-besteffort.slice:cri-containerd:ID" ->
 *    /kubepods.slice/kubepods-besteffort.slice/cri-containerd-ID.scope (an empty slice is
 *    system.slice; a NAME ending in .slice is itself a slice). No systemd unit is made, so
 *    systemd does not know the group: `features` says systemd: false.
 *    Without --systemd-cgroup a "a:b:c" value is refused (it is a systemd path given to a
 *    cgroupfs runtime).
 * Refused everywhere: "..", NUL, an empty component.
 */
import { posix } from 'node:path';
import type { Fail } from './errors.js';

export type CgroupPathPlan =
  | { kind: 'default' }
  | { kind: 'path'; path: string }
  | { kind: 'relative'; path: string }
  | { kind: 'systemd'; path: string; slice: string; prefix: string; name: string };

export function planCgroupsPath(value: string | null | undefined, opts: { systemd: boolean }, fail: Fail): CgroupPathPlan {
  const where = 'linux.cgroupsPath';
  if (value === undefined || value === null || value === '') return { kind: 'default' };
  if (value.includes('\0')) throw fail(where, 'contains a NUL byte');
  if (opts.systemd) {
    const parts = value.split(':');
    if (parts.length !== 3) throw fail(where, `'${value}' is not systemd's SLICE:PREFIX:NAME, which --systemd-cgroup needs`);
    const [slice, prefix, name] = parts as [string, string, string];
    if (name === '') throw fail(where, `'${value}' has no NAME`);
    const path = systemdPath(slice || 'system.slice', prefix, name, (what) => fail(where, what));
    return { kind: 'systemd', path, slice: slice || 'system.slice', prefix, name };
  }
  if (value.includes(':')) throw fail(where, `'${value}' looks like systemd's SLICE:PREFIX:NAME`, 'The engine uses the systemd cgroup manager, which tsbox-runtime does not support: configure its cgroupfs manager (podman --cgroup-manager cgroupfs; containerd SystemdCgroup = false), which sends a path like /tsbox/ID.');
  const absolute = value.startsWith('/');
  const components = value.split('/').filter((c, i) => !(i === 0 && absolute) && c !== '');
  if (components.some((c) => c === '..' || c === '.')) throw fail(where, `'${value}' contains '.' or '..'`);
  if (components.length === 0) throw fail(where, `'${value}' is the root of the hierarchy, which is not a container's group`);
  const path = components.join('/');
  return absolute ? { kind: 'path', path: `/${path}` } : { kind: 'relative', path };
}

/** "a-b.slice" -> "/a.slice/a-b.slice" (systemd's slice nesting by dashes). */
export function expandSlice(slice: string, fail: (what: string) => Error): string {
  if (!slice.endsWith('.slice')) throw fail(`'${slice}' is not a slice (NAME.slice)`);
  const stem = slice.slice(0, -'.slice'.length);
  if (stem === '-' || stem === '') return '/';
  if (stem.includes('/') || stem.startsWith('-') || stem.endsWith('-') || stem.includes('--')) throw fail(`'${slice}' is not a valid slice name`);
  const dirs: string[] = [];
  let acc = '';
  for (const part of stem.split('-')) {
    acc = acc ? `${acc}-${part}` : part;
    dirs.push(`${acc}.slice`);
  }
  return `/${dirs.join('/')}`;
}

function systemdPath(slice: string, prefix: string, name: string, fail: (what: string) => Error): string {
  if ([prefix, name].some((p) => p.includes('/') || p === '.' || p === '..')) throw fail('PREFIX and NAME must be plain names');
  const parent = expandSlice(slice, fail);
  // A NAME that is a slice is the group itself (runc: "a slice is not a unit under a slice").
  const unit = name.endsWith('.slice') ? expandSlice(name, fail).split('/').pop()! : `${prefix ? `${prefix}-` : ''}${name}.scope`;
  return posix.join(parent, unit);
}
