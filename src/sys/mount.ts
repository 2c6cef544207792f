import { check, libc, rawSyscall, SYS } from './libc.js';

/** mount(2) flags. */
export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  REMOUNT: 0x20,
  NOATIME: 0x400,
  BIND: 0x1000,
  MOVE: 0x2000,
  REC: 0x4000,
  SILENT: 0x8000,
  PRIVATE: 0x40000,
  SLAVE: 0x80000,
  SHARED: 0x100000,
  RELATIME: 0x200000,
  STRICTATIME: 0x1000000,
} as const;

export const MNT_DETACH = 0x2;

const mountFn = libc.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)');
const umount2Fn = libc.func('int umount2(const char *target, int flags)');

/** Names of the set flags, for error messages and --debug ("MS_BIND|MS_REC"). */
export function mountFlagNames(flags: number): string {
  const names = Object.entries(MS)
    .filter(([, bit]) => (flags & bit) !== 0)
    .map(([name]) => `MS_${name}`);
  return names.length ? names.join('|') : '0';
}

export function mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null = null): void {
  const detail = `${source ?? 'none'} on ${target}${fstype ? ` type ${fstype}` : ''}, ${mountFlagNames(flags)}${data ? `, "${data}"` : ''}`;
  check(mountFn(source, target, fstype, flags, data), 'mount', detail);
}

export function umount2(target: string, flags: number): void {
  check(umount2Fn(target, flags), 'umount2', target);
}

export function pivotRoot(newRoot: string, putOld: string): void {
  const ret = rawSyscall(SYS.pivot_root, 'const char *', newRoot, 'const char *', putOld) as number | bigint;
  check(Number(ret), 'pivot_root', `${newRoot}, ${putOld}`);
}
