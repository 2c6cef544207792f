/**
 * tsbox's default filter against docker's x86_64 default profile (moby profiles/seccomp,
 * as of its Linux 6.13 update): one test per syscall where the two once differed
 * (issue 10, "must hold"), asked of the compiled filter through the BPF interpreter.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CAPABILITIES } from '../../src/security/capabilities.js';
import { defaultSeccompProfile } from '../../src/security/seccomp-default.js';
import { X86_64_SYSCALLS } from '../../src/security/syscalls-x86_64.js';
import { ARCH_X86_64, compile } from './security-helpers.js';

const kernel = { major: 6, minor: 18 };
const byDefault = compile(defaultSeccompProfile(new Set(DEFAULT_CAPABILITIES), kernel));
const withSysAdmin = compile(defaultSeccompProfile(new Set([...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN']), kernel));
const outcome = (filter: typeof byDefault, name: string) => filter.outcome({ nr: X86_64_SYSCALLS[name]!, arch: ARCH_X86_64 });

describe('deltas against docker\'s default profile', () => {
  it('statmount (457) is allowed, as docker does', () => {
    expect(outcome(byDefault, 'statmount')).toBe('allow');
  });

  it('listmount (458) is allowed, as docker does', () => {
    expect(outcome(byDefault, 'listmount')).toBe('allow');
  });

  it('uretprobe (335) is allowed, as docker does', () => {
    expect(outcome(byDefault, 'uretprobe')).toBe('allow');
  });

  it('file_getattr (468) is not allowed: ENOSYS, as under docker, whose profile does not name it', () => {
    expect(outcome(byDefault, 'file_getattr')).toBe('errno(38)');
    expect(outcome(withSysAdmin, 'file_getattr')).toBe('errno(38)');
  });

  it('file_setattr (469) is not allowed: ENOSYS, as under docker', () => {
    expect(outcome(byDefault, 'file_setattr')).toBe('errno(38)');
  });

  it('listns (470) is not allowed: ENOSYS, as under docker', () => {
    expect(outcome(byDefault, 'listns')).toBe('errno(38)');
  });

  it('lsm_* need CAP_SYS_ADMIN, as in docker', () => {
    for (const name of ['lsm_get_self_attr', 'lsm_set_self_attr', 'lsm_list_modules']) {
      expect(outcome(byDefault, name), name).toBe('errno(1)');
      expect(outcome(withSysAdmin, name), name).toBe('allow');
    }
  });
});
