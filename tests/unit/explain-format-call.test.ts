import { describe, expect, it } from 'vitest';
import {
  capMaskNames, capName, capsetArgs, cloneFlags, modeText, openat2Args, openatArgs, detailText, flagNames, formatCall, mountArgs, mountAttrFlags, mountFlags, openTreeFlags,
  prctlArgs, resultText, seccompArgs, setnsArgs, signalName,
} from '../../src/explain/format-call.js';
import { MOUNT_ATTR, MS, OPEN_TREE, AT_RECURSIVE } from '../../src/sys/mount-flags.js';
import { CLONE, PR } from '../../src/sys/process-flags.js';
import { PR_CAP_AMBIENT_OP, SECCOMP_FILTER_FLAG } from '../../src/sys/security-flags.js';

describe('flag names (explain/format-call.ts)', () => {
  it('names every set bit, in the table order', () => {
    expect(cloneFlags(CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWNET | CLONE.NEWPID)).toBe('CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWPID|CLONE_NEWNET');
    expect(cloneFlags(0x02000000)).toBe('CLONE_NEWCGROUP');
    expect(mountFlags(MS.NODEV | MS.NOSUID)).toBe('MS_NOSUID|MS_NODEV');
    expect(mountFlags(MS.REC | MS.PRIVATE)).toBe('MS_REC|MS_PRIVATE');
    expect(mountAttrFlags(MOUNT_ATTR.RDONLY | MOUNT_ATTR.NOSUID | MOUNT_ATTR.NOEXEC)).toBe('MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID|MOUNT_ATTR_NOEXEC');
    expect(openTreeFlags(OPEN_TREE.CLONE | OPEN_TREE.CLOEXEC | AT_RECURSIVE)).toBe('OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC|AT_RECURSIVE');
  });

  it('shows bits no name covers as a hex remainder, and 0 as 0', () => {
    expect(cloneFlags(CLONE.NEWPID | 0x1)).toBe('CLONE_NEWPID|0x1');
    expect(mountFlags(0x80000000 | MS.BIND)).toBe('MS_BIND|0x80000000');
    expect(mountFlags(0x10)).toBe('0x10'); // MS_MANDLOCK: not in tsbox's table
    expect(cloneFlags(0)).toBe('0');
    expect(flagNames(0, { RDONLY: 0, WRONLY: 1 }, 'O_')).toBe('O_RDONLY');
    expect(flagNames(3, { RDONLY: 0, WRONLY: 1 }, 'O_')).toBe('O_WRONLY|0x2');
  });

  it('names capabilities, signals and capability masks; unknown ones stay numbers', () => {
    expect(capName(13)).toBe('CAP_NET_RAW');
    expect(capName(63)).toBe('63');
    expect(signalName(9)).toBe('SIGKILL');
    expect(signalName(15)).toBe('SIGTERM');
    expect(signalName(200)).toBe('200');
    expect(capMaskNames(0n)).toBe('0');
    expect(capMaskNames((1n << 0n) | (1n << 21n))).toBe('CAP_CHOWN|CAP_SYS_ADMIN');
    expect(capMaskNames((1n << 5n) | (1n << 62n))).toBe('CAP_KILL|0x4000000000000000');
  });
});

describe('call arguments', () => {
  it('prctl: the option and its argument by name', () => {
    expect(prctlArgs(PR.SET_PDEATHSIG, 9)).toBe('PR_SET_PDEATHSIG, SIGKILL');
    expect(prctlArgs(PR.CAPBSET_DROP, 13)).toBe('PR_CAPBSET_DROP, CAP_NET_RAW');
    expect(prctlArgs(PR.SET_DUMPABLE, 0)).toBe('PR_SET_DUMPABLE, 0');
    expect(prctlArgs(PR.GET_DUMPABLE)).toBe('PR_GET_DUMPABLE');
    expect(prctlArgs(PR.SET_NO_NEW_PRIVS, 1)).toBe('PR_SET_NO_NEW_PRIVS, 1');
    expect(prctlArgs(PR.CAP_AMBIENT, PR_CAP_AMBIENT_OP.CLEAR_ALL)).toBe('PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL');
    expect(prctlArgs(PR.CAP_AMBIENT, PR_CAP_AMBIENT_OP.RAISE, 12)).toBe('PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN');
    expect(prctlArgs(1234, 5)).toBe('1234, 5');
  });

  it('mount: five arguments, strings quoted, NULL for none', () => {
    expect(mountArgs('overlay', '/x/merged', 'overlay', MS.NODEV | MS.NOSUID, 'lowerdir=/l,upperdir=/u')).toBe('"overlay", "/x/merged", "overlay", MS_NOSUID|MS_NODEV, "lowerdir=/l,upperdir=/u"');
    expect(mountArgs(null, '/', null, MS.REC | MS.PRIVATE, null)).toBe('NULL, "/", NULL, MS_REC|MS_PRIVATE, NULL');
  });

  it('openat and openat2: the directory fd, the path, flags and resolve by name', () => {
    expect(openatArgs(-100, '/x', 0o200000 | 0o2000000 | 0o10000000, 0)).toBe('AT_FDCWD, "/x", O_DIRECTORY|O_CLOEXEC|O_PATH');
    expect(openatArgs(19, 'hosts', 0o1 | 0o100 | 0o200, 0o644)).toBe('19, "hosts", O_WRONLY|O_CREAT|O_EXCL, 0644');
    expect(openatArgs(3, 'f', 0, 0)).toBe('3, "f", O_RDONLY');
    expect(openat2Args(18, '/proc', 0o10000000, 0, 0x10 | 0x02)).toBe('18, "/proc", {flags: O_PATH, resolve: RESOLVE_NO_MAGICLINKS|RESOLVE_IN_ROOT}');
  });

  it('file modes: the type by name, the permissions in octal', () => {
    expect(modeText(0o020666)).toBe('S_IFCHR|0666');
    expect(modeText(0o755)).toBe('0755');
    expect(modeText(0o041777)).toBe('S_IFDIR|01777');
  });

  it('setns, capset, seccomp', () => {
    expect(setnsArgs(5, CLONE.NEWNET, 'the network namespace of --network container:')).toBe('5 /* the network namespace of --network container: */, CLONE_NEWNET');
    expect(setnsArgs(7, 0, '')).toBe('7, 0');
    expect(capsetArgs({ effective: 1n, permitted: 3n, inheritable: 0n })).toBe('{effective: CAP_CHOWN, permitted: CAP_CHOWN|CAP_DAC_OVERRIDE, inheritable: 0}');
    expect(seccompArgs(SECCOMP_FILTER_FLAG.TSYNC, 476)).toBe('SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, {len: 476}');
    expect(seccompArgs(0, 10)).toBe('SECCOMP_SET_MODE_FILTER, 0, {len: 10}');
  });

  it('results as strace shows them, and details made only when asked', () => {
    expect(resultText(0)).toBe('0');
    expect(resultText(19)).toBe('19');
    expect(resultText(-2)).toBe('-1 ENOENT');
    expect(formatCall('unshare', () => cloneFlags(CLONE.NEWCGROUP), 0)).toBe('unshare(CLONE_NEWCGROUP) = 0');
    let made = 0;
    const lazy = () => {
      made++;
      return 'x';
    };
    expect(made).toBe(0);
    expect(detailText(lazy)).toBe('x');
    expect(made).toBe(1);
  });
});
