import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { ALL_CAPABILITIES, capabilityNumber, DEFAULT_CAPABILITIES, parseCapabilityName, resolveBoundingSet } from '../../src/security/capabilities.js';

const request = (over: Partial<{ capAdd: string[]; capDrop: string[]; privileged: boolean }> = {}) => ({ capAdd: [], capDrop: [], privileged: false, ...over });

describe('parseCapabilityName', () => {
  it('accepts names with or without CAP_, in any case', () => {
    for (const name of ['NET_ADMIN', 'net_admin', 'CAP_NET_ADMIN', 'cap_net_admin', 'Net_Admin', ' NET_ADMIN ']) {
      expect(parseCapabilityName(name)).toBe('CAP_NET_ADMIN');
    }
    expect(parseCapabilityName('all')).toBe('ALL');
    expect(parseCapabilityName('CAP_CHECKPOINT_RESTORE')).toBe('CAP_CHECKPOINT_RESTORE');
  });

  it('refuses unknown names with a hint', () => {
    expect(() => parseCapabilityName('NET_ADMINN')).toThrow(UsageError);
    try {
      parseCapabilityName('NET_ADMINN');
    } catch (err) {
      expect((err as UsageError).message).toBe('unknown capability "NET_ADMINN"');
      expect((err as UsageError).hint).toMatch(/Did you mean NET_ADMIN\?/);
    }
    try {
      parseCapabilityName('frobnicate');
    } catch (err) {
      expect((err as UsageError).hint).toMatch(/capabilities\(7\)/);
    }
    expect(() => parseCapabilityName('')).toThrow(UsageError);
    expect(() => parseCapabilityName('CAP_')).toThrow(UsageError);
  });

  it('numbers capabilities as the kernel does', () => {
    expect(capabilityNumber('CAP_CHOWN')).toBe(0);
    expect(capabilityNumber('CAP_SETPCAP')).toBe(8);
    expect(capabilityNumber('CAP_SYS_ADMIN')).toBe(21);
    expect(capabilityNumber('CAP_SETFCAP')).toBe(31);
    expect(capabilityNumber('CAP_CHECKPOINT_RESTORE')).toBe(40);
    expect(ALL_CAPABILITIES).toHaveLength(41);
  });
});

describe('resolveBoundingSet', () => {
  it('defaults to podman\'s eleven capabilities', () => {
    expect(resolveBoundingSet(request())).toEqual([
      'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP',
      'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_SETFCAP',
    ]);
    expect(new Set(resolveBoundingSet(request()) as string[])).toEqual(new Set(DEFAULT_CAPABILITIES));
  });

  it('adds and drops, in kernel bit order, without duplicates', () => {
    const set = resolveBoundingSet(request({ capAdd: ['net_admin', 'CAP_SYS_PTRACE', 'chown'], capDrop: ['KILL', 'setfcap'] })) as string[];
    expect(set).toContain('CAP_NET_ADMIN');
    expect(set).toContain('CAP_SYS_PTRACE');
    expect(set).not.toContain('CAP_KILL');
    expect(set).not.toContain('CAP_SETFCAP');
    expect(set.filter((c) => c === 'CAP_CHOWN')).toHaveLength(1);
    const bits = set.map((c) => capabilityNumber(c)!);
    expect(bits).toEqual([...bits].sort((a, b) => a - b));
  });

  it('lets an add win over a drop of the same capability, as docker does', () => {
    expect(resolveBoundingSet(request({ capAdd: ['NET_RAW'], capDrop: ['NET_RAW'] }))).toContain('CAP_NET_RAW');
  });

  it('--cap-drop ALL keeps only what is added', () => {
    expect(resolveBoundingSet(request({ capDrop: ['ALL'] }))).toEqual([]);
    expect(resolveBoundingSet(request({ capDrop: ['all'], capAdd: ['chown', 'NET_BIND_SERVICE'] }))).toEqual(['CAP_CHOWN', 'CAP_NET_BIND_SERVICE']);
  });

  it('--cap-add ALL gives every capability minus the drops', () => {
    const set = resolveBoundingSet(request({ capAdd: ['ALL'], capDrop: ['SYS_ADMIN', 'sys_module'] })) as string[];
    expect(set).toHaveLength(ALL_CAPABILITIES.length - 2);
    expect(set).not.toContain('CAP_SYS_ADMIN');
    expect(set).toContain('CAP_BPF');
  });

  it('--privileged means every capability the kernel knows, unless some are dropped', () => {
    expect(resolveBoundingSet(request({ privileged: true }))).toBe('all');
    expect(resolveBoundingSet(request({ privileged: true, capAdd: ['NET_ADMIN'] }))).toBe('all');
    const dropped = resolveBoundingSet(request({ privileged: true, capDrop: ['NET_RAW'] })) as string[];
    expect(dropped).toHaveLength(ALL_CAPABILITIES.length - 1);
    expect(dropped).not.toContain('CAP_NET_RAW');
  });

  it('refuses unknown names in adds and drops', () => {
    expect(() => resolveBoundingSet(request({ capAdd: ['SYS_ADMINS'] }))).toThrow(/unknown capability "SYS_ADMINS"/);
    expect(() => resolveBoundingSet(request({ capDrop: ['nope'] }))).toThrow(UsageError);
    expect(() => resolveBoundingSet(request({ privileged: true, capDrop: ['nope'] }))).toThrow(UsageError);
  });
});
