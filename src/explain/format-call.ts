/**
 * System calls as --debug and --explain print them: symbolic flags and real arguments,
 * strace's way (`unshare(CLONE_NEWNS|CLONE_NEWPID) = 0`, `prctl(PR_CAPBSET_DROP, CAP_NET_RAW)`,
 * `= -1 ENOENT`). Pure: the numbers come from the constants modules of src/sys, which load
 * no FFI, so the init, the CLI and unit tests share one formatter.
 *
 * The src/sys wrappers pass these as thunks (Detail): a string is built only when a tracer
 * is set or the call failed, so the normal path pays nothing for the names.
 */
import { constants } from 'node:os';
import { ALL_CAPABILITIES } from '../security/capabilities.js';
import { errnoName } from '../sys/errno.js';
import { MOUNT_ATTR, MS, OPEN_TREE, AT_RECURSIVE, AT_EMPTY_PATH } from '../sys/mount-flags.js';
import { CLONE, PR } from '../sys/process-flags.js';
import { AT, O, RESOLVE, S_IF } from '../sys/fs-flags.js';
import { PR_CAP_AMBIENT_OP, SECCOMP_FILTER_FLAG, SECCOMP_SET_MODE } from '../sys/security-flags.js';

/** A call's arguments, as text or as the function that makes the text when it is shown. */
export type Detail = string | (() => string);

export function detailText(detail: Detail): string {
  return typeof detail === 'function' ? detail() : detail;
}

/**
 * The names of the bits set in `value` ("MS_BIND|MS_REC"), each table entry once, in the
 * table's order; bits no entry names are shown as a hex remainder ("MS_BIND|0x80000000").
 * A zero-valued entry (O_RDONLY) names a zero value only. 0 with no such entry is "0".
 */
export function flagNames(value: number, table: Readonly<Record<string, number>>, prefix: string): string {
  const names: string[] = [];
  let rest = value >>> 0;
  let zeroName: string | undefined;
  for (const [name, bit] of Object.entries(table)) {
    if (bit === 0) {
      zeroName ??= `${prefix}${name}`;
      continue;
    }
    if ((rest & bit) === bit) {
      names.push(`${prefix}${name}`);
      rest = (rest & ~bit) >>> 0;
    }
  }
  if (rest !== 0) names.push(`0x${rest.toString(16)}`);
  if (names.length === 0) return zeroName ?? '0';
  return names.join('|');
}

/** One name for a whole value (an enum, not bits): "PR_SET_PDEATHSIG", else the number. */
export function enumName(value: number, table: Readonly<Record<string, number>>, prefix: string): string {
  for (const [name, v] of Object.entries(table)) if (v === value) return `${prefix}${name}`;
  return String(value);
}

export const cloneFlags = (flags: number): string => flagNames(flags, CLONE, 'CLONE_');
export const mountFlags = (flags: number): string => flagNames(flags, MS, 'MS_');
export const mountAttrFlags = (attr: number): string => flagNames(attr, MOUNT_ATTR, 'MOUNT_ATTR_');
export const openTreeFlags = (flags: number): string => flagNames(flags, { OPEN_TREE_CLONE: OPEN_TREE.CLONE, OPEN_TREE_CLOEXEC: OPEN_TREE.CLOEXEC, AT_RECURSIVE, AT_EMPTY_PATH }, '');
export const openFlags = (flags: number): string => flagNames(flags, O, 'O_');
export const resolveFlags = (resolve: number): string => flagNames(resolve, RESOLVE, 'RESOLVE_');
/** A directory fd argument: AT_FDCWD by name. */
export const dirFd = (fd: number): string => (fd === AT.FDCWD ? 'AT_FDCWD' : String(fd));

/** A file mode: the type by name when it has one, the permissions in octal ("S_IFCHR|0666", "0755"). */
export function modeText(mode: number): string {
  const type = mode & 0o170000;
  const perms = `0${(mode & 0o7777).toString(8)}`;
  if (type === 0) return perms;
  return `${enumName(type, S_IF, 'S_IF')}|${perms}`;
}

/** openat(2): `AT_FDCWD, "/x", O_RDONLY|O_DIRECTORY|O_CLOEXEC` (the mode only with O_CREAT). */
export function openatArgs(dirfd: number, path: string, flags: number, mode: number): string {
  return `${dirFd(dirfd)}, ${quoted(path)}, ${openFlags(flags)}${(flags & O.CREAT) !== 0 ? `, 0${mode.toString(8)}` : ''}`;
}

/** openat2(2): the path and struct open_how, flags and resolve by name. */
export function openat2Args(dirfd: number, path: string, flags: number, mode: number, resolve: number): string {
  return `${dirFd(dirfd)}, ${quoted(path)}, {flags: ${openFlags(flags)}${(flags & O.CREAT) !== 0 ? `, mode: 0${mode.toString(8)}` : ''}, resolve: ${resolveFlags(resolve)}}`;
}

export const seccompFilterFlags = (flags: number): string => flagNames(flags, SECCOMP_FILTER_FLAG, 'SECCOMP_FILTER_FLAG_');

// Built on first use: loading this module (on every start) does no work.
let signalNames: Map<number, string> | undefined;

/** 9 -> "SIGKILL"; a number Linux does not name stays a number. */
export function signalName(signal: number): string {
  if (!signalNames) {
    signalNames = new Map();
    for (const [name, n] of Object.entries(constants.signals)) if (!signalNames.has(n)) signalNames.set(n, name);
  }
  return signalNames.get(signal) ?? String(signal);
}

/** 13 -> "CAP_NET_RAW" (capabilities(7) numbering); one tsbox does not know stays a number. */
export function capName(cap: number): string {
  return ALL_CAPABILITIES[cap] ?? String(cap);
}

/** A 64-bit capability mask as names ("CAP_CHOWN|CAP_KILL"), unknown bits as a hex remainder, "0" when empty. */
export function capMaskNames(mask: bigint): string {
  const names: string[] = [];
  let rest = 0n;
  for (let bit = 0; bit < 64; bit++) {
    if ((mask & (1n << BigInt(bit))) === 0n) continue;
    if (ALL_CAPABILITIES[bit] !== undefined) names.push(ALL_CAPABILITIES[bit]!);
    else rest |= 1n << BigInt(bit);
  }
  if (rest !== 0n) names.push(`0x${rest.toString(16)}`);
  return names.length ? names.join('|') : '0';
}

/** A string argument as strace shows it: quoted; NULL for none. */
export function quoted(s: string | null): string {
  return s === null ? 'NULL' : JSON.stringify(s);
}

/** prctl(2)'s arguments: the option by name, and the argument it takes by its name too. */
export function prctlArgs(option: number, a2 = 0, a3 = 0): string {
  const name = enumName(option, PR, 'PR_');
  switch (option) {
    case PR.SET_PDEATHSIG:
      return `${name}, ${a2 === 0 ? '0' : signalName(a2)}`;
    case PR.CAPBSET_DROP:
      return `${name}, ${capName(a2)}`;
    case PR.CAP_AMBIENT: {
      const op = enumName(a2, PR_CAP_AMBIENT_OP, 'PR_CAP_AMBIENT_');
      return a2 === PR_CAP_AMBIENT_OP.CLEAR_ALL ? `${name}, ${op}` : `${name}, ${op}, ${capName(a3)}`;
    }
    case PR.GET_DUMPABLE:
      return name;
    default:
      return `${name}, ${a2}`;
  }
}

/** mount(2)'s five arguments: `"overlay", "/x/merged", "overlay", MS_NODEV, "lowerdir=..."`. */
export function mountArgs(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): string {
  return `${quoted(source)}, ${quoted(target)}, ${quoted(fstype)}, ${mountFlags(flags)}, ${quoted(data)}`;
}

/** setns(2): the fd (and what it is), and the namespace type it must be (0: any). */
export function setnsArgs(fd: number, nstype: number, what: string): string {
  return `${fd}${what ? ` /* ${what} */` : ''}, ${cloneFlags(nstype)}`;
}

/** capset(2)'s three sets, by name. */
export function capsetArgs(masks: { effective: bigint; permitted: bigint; inheritable: bigint }): string {
  return `{effective: ${capMaskNames(masks.effective)}, permitted: ${capMaskNames(masks.permitted)}, inheritable: ${capMaskNames(masks.inheritable)}}`;
}

/** seccomp(SECCOMP_SET_MODE_FILTER, flags, &prog): the program's length in BPF instructions. */
export function seccompArgs(flags: number, instructions: number): string {
  return `${enumName(SECCOMP_SET_MODE.FILTER, SECCOMP_SET_MODE, 'SECCOMP_SET_MODE_')}, ${seccompFilterFlags(flags)}, {len: ${instructions}}`;
}

/** A call's result as strace prints it: the value, or `-1 ENOENT` for a failure (result is -errno). */
export function resultText(result: number): string {
  return result < 0 ? `-1 ${errnoName(-result)}` : String(result);
}

/** The whole line: `name(args) = result`. */
export function formatCall(syscall: string, detail: Detail, result: number): string {
  return `${syscall}(${detailText(detail)}) = ${resultText(result)}`;
}
