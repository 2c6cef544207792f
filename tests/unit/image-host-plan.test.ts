import { describe, expect, it } from 'vitest';
import { elfIsDynamic, isAppletName, parseLddOutput, planHostRootfs } from '../../src/image/host-rootfs-plan.js';

describe('parseLddOutput', () => {
  it('lists library paths and the loader, skipping the vDSO', () => {
    const out = `\tlinux-vdso.so.1 (0x00007ffd)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f12)\n\t/lib64/ld-linux-x86-64.so.2 (0x00007f34)\n`;
    expect(parseLddOutput(out)).toEqual(['/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2']);
  });
  it('returns nothing for static binaries and fails on missing libraries', () => {
    expect(parseLddOutput('\tnot a dynamic executable\n')).toEqual([]);
    expect(parseLddOutput('\tstatically linked\n')).toEqual([]);
    expect(() => parseLddOutput('\tlibfoo.so.1 => not found\n')).toThrow(/libfoo/);
  });
});

describe('elfIsDynamic', () => {
  function elf(phdrTypes: number[]): Buffer {
    const b = Buffer.alloc(64 + 56 * phdrTypes.length);
    b.writeUInt32BE(0x7f454c46, 0);
    b[4] = 2;
    b[5] = 1;
    b.writeBigUInt64LE(64n, 32);
    b.writeUInt16LE(56, 54);
    b.writeUInt16LE(phdrTypes.length, 56);
    phdrTypes.forEach((t, i) => b.writeUInt32LE(t, 64 + 56 * i));
    return b;
  }
  it('looks for PT_INTERP', () => {
    expect(elfIsDynamic(elf([6, 3, 1]))).toBe(true);
    expect(elfIsDynamic(elf([1, 1, 4]))).toBe(false);
    expect(elfIsDynamic(Buffer.from('#!/bin/sh\n'))).toBe(false);
  });
});

describe('planHostRootfs', () => {
  it('makes a busybox tree: applet links to /bin/busybox, base dirs, users', () => {
    const plan = planHostRootfs({ kind: 'busybox', busybox: '/bin/busybox', applets: ['sh', 'ls', '[', 'ls', '../evil', 'busybox'], libraries: [] });
    const byName = new Map(plan.map((e) => [e.name, e]));
    expect(byName.get('bin/sh')).toMatchObject({ type: 'symlink', linkname: '/bin/busybox' });
    expect(byName.get('bin/[')).toMatchObject({ type: 'symlink' });
    expect(byName.has('bin/../evil')).toBe(false);
    expect(byName.get('bin/busybox')).toMatchObject({ type: 'file', mode: 0o755, hostPath: '/bin/busybox' });
    expect(byName.get('tmp')).toMatchObject({ type: 'directory', mode: 0o1777 });
    for (const dir of ['proc', 'sys', 'dev', 'etc', 'root', 'home', 'var', 'usr/bin']) expect(byName.get(dir)?.type).toBe('directory');
    expect(byName.get('etc/passwd')!.content).toMatch(/^root:x:0:0:/m);
    expect(byName.get('etc/passwd')!.content).toMatch(/^nobody:x:65534:65534:/m);
    expect(byName.get('etc/passwd')!.content).toMatch(/^tsbox:x:1000:1000:/m);
    expect(byName.get('etc/group')!.content).toMatch(/^tsbox:x:1000:$/m);
    expect(plan.filter((e) => e.name === 'bin/ls')).toHaveLength(1);
    // Parents come before children, so the archive extracts in order.
    const index = (n: string) => plan.findIndex((e) => e.name === n);
    expect(index('home')).toBeLessThan(index('home/tsbox'));
  });

  it('falls back to /bin/sh plus its libraries under their own paths', () => {
    const plan = planHostRootfs({ kind: 'shell', shell: '/usr/bin/dash', libraries: ['/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2'] });
    const names = plan.map((e) => e.name);
    expect(plan.find((e) => e.name === 'bin/sh')).toMatchObject({ type: 'file', hostPath: '/usr/bin/dash' });
    expect(names).toEqual(expect.arrayContaining(['lib', 'lib/x86_64-linux-gnu', 'lib/x86_64-linux-gnu/libc.so.6', 'lib64', 'lib64/ld-linux-x86-64.so.2']));
    expect(names.indexOf('lib')).toBeLessThan(names.indexOf('lib/x86_64-linux-gnu/libc.so.6'));
  });

  it('accepts only plain applet names', () => {
    expect(isAppletName('[[')).toBe(true);
    expect(isAppletName('run-parts')).toBe(true);
    for (const bad of ['a/b', '..', '', 'busybox', 'x y']) expect(isAppletName(bad)).toBe(false);
  });
});
