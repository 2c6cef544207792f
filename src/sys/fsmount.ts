/**
 * The new mount API for filesystems that take many options: fsopen, fsconfig, fsmount,
 * move_mount. overlayfs's `lowerdir+` takes one lower directory per fsconfig call, so an
 * image of hundreds of layers never goes through mount(2)'s one-page option string (which
 * the kernel truncates without an error). Syscall numbers: x86_64.
 */
import { check, rawSyscall } from './libc.js';
import { close } from './fs.js';
import { mountAttrFlags } from '../explain/format-call.js';

const NR = { fsopen: 430, fsconfig: 431, fsmount: 432, move_mount: 429 } as const;
const FSOPEN_CLOEXEC = 1;
const FSMOUNT_CLOEXEC = 1;
const FSCONFIG = { SET_FLAG: 0, SET_STRING: 1, CMD_CREATE: 6 } as const;
const MOVE_MOUNT_F_EMPTY_PATH = 0x4;

/** A filesystem context fd for `fsType`; SysError ENOSYS before Linux 5.2. */
export function fsopen(fsType: string): number {
  const ret = rawSyscall(NR.fsopen, 'const char *', fsType, 'unsigned int', FSOPEN_CLOEXEC) as number | bigint;
  return Number(check(Number(ret), 'fsopen', fsType));
}

export function fsconfigString(fd: number, key: string, value: string): void {
  const ret = rawSyscall(NR.fsconfig, 'int', fd, 'unsigned int', FSCONFIG.SET_STRING, 'const char *', key, 'const char *', value, 'int', 0) as number | bigint;
  check(Number(ret), 'fsconfig', `${key}=${value}`);
}

export function fsconfigFlag(fd: number, key: string): void {
  const ret = rawSyscall(NR.fsconfig, 'int', fd, 'unsigned int', FSCONFIG.SET_FLAG, 'const char *', key, 'void *', null, 'int', 0) as number | bigint;
  check(Number(ret), 'fsconfig', key);
}

export function fsconfigCreate(fd: number): void {
  const ret = rawSyscall(NR.fsconfig, 'int', fd, 'unsigned int', FSCONFIG.CMD_CREATE, 'void *', null, 'void *', null, 'int', 0) as number | bigint;
  check(Number(ret), 'fsconfig', 'FSCONFIG_CMD_CREATE');
}

/** A detached mount of the created superblock; `attrs` are MOUNT_ATTR_* bits (RDONLY 1, NOSUID 2, NODEV 4). */
export function fsmount(fd: number, attrs: number): number {
  const ret = rawSyscall(NR.fsmount, 'int', fd, 'unsigned int', FSMOUNT_CLOEXEC, 'unsigned int', attrs) as number | bigint;
  return Number(check(Number(ret), 'fsmount', () => `${fd}, FSMOUNT_CLOEXEC, ${mountAttrFlags(attrs)}`));
}

/** Attach the detached mount `fromFd` at `target` (a path). */
export function moveMountToPath(fromFd: number, target: string): void {
  const ret = rawSyscall(NR.move_mount, 'int', fromFd, 'const char *', '', 'int', -100, 'const char *', target, 'unsigned int', MOVE_MOUNT_F_EMPTY_PATH) as number | bigint;
  check(Number(ret), 'move_mount', `fd ${fromFd} onto ${target}`);
}

export { close as closeFd };
