import { check, libc, rawSyscall, SYS } from './libc.js';

/** mount(2) flags. */
export const MS = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  REMOUNT: 0x20,
  NOATIME: 0x400,
  NODIRATIME: 0x800,
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

const statfsFn = libc.func('int statfs(const char *path, void *buf)');
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

/** struct statfs (x86_64): 120 bytes; f_flags, the mount's ST_* flags, at offset 80. */
const STATFS_SIZE = 120;
const STATFS_FLAGS = 80;
const ST = { RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8, NOATIME: 1024, NODIRATIME: 2048, RELATIME: 4096 } as const;

/**
 * The per-mount flags of the mount at `target`, as MS_* flags for a bind remount. Such a
 * remount sets these flags to exactly what it is given: adding one flag (MS_RDONLY,
 * MS_NODEV) without the others would clear nosuid, noexec or noatime the source had.
 */
export function mountFlagsOf(target: string): number {
  const buf = Buffer.alloc(STATFS_SIZE);
  check(statfsFn(target, buf) as number, 'statfs', target);
  const st = Number(buf.readBigUInt64LE(STATFS_FLAGS));
  let flags = 0;
  for (const name of ['RDONLY', 'NOSUID', 'NODEV', 'NOEXEC', 'NOATIME', 'NODIRATIME'] as const) if (st & ST[name]) flags |= MS[name];
  if (!(st & (ST.NOATIME | ST.RELATIME))) flags |= MS.STRICTATIME;
  return flags;
}
