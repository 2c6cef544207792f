import { describe, expect, it } from 'vitest';
import { hostnameFile, hostsFile, resolvConfFile } from '../../src/mounts/etc-files.js';

describe('generated /etc files', () => {
  it('names the container in /etc/hostname and /etc/hosts', () => {
    expect(hostnameFile('box')).toBe('box\n');
    expect(hostsFile('box')).toMatch(/^127\.0\.0\.1\tlocalhost$/m);
    expect(hostsFile('box')).toMatch(/^127\.0\.1\.1\tbox$/m);
  });

  it('drops loopback resolvers, which the container cannot reach', () => {
    expect(resolvConfFile('search x\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nnameserver ::1\n')).toBe('search x\nnameserver 10.0.0.2\n');
    expect(resolvConfFile(null)).toBe('');
  });
});
