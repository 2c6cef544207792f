import { describe, expect, it } from 'vitest';
import { resolveVolumeSource } from '../../src/cli/host-paths.js';

describe('resolveVolumeSource (-v, docker 23+ rule)', () => {
  it('makes a source starting with "." absolute against the working directory', () => {
    expect(resolveVolumeSource('./data:/d', '/home/u/p')).toBe('/home/u/p/data:/d');
    expect(resolveVolumeSource('.:/src:ro', '/home/u/p')).toBe('/home/u/p:/src:ro');
    expect(resolveVolumeSource('../up:/u', '/home/u/p')).toBe('/home/u/up:/u');
  });

  it('leaves absolute sources, names and malformed specs for parseVolume to judge', () => {
    expect(resolveVolumeSource('/abs:/d', '/cwd')).toBe('/abs:/d');
    expect(resolveVolumeSource('name:/d', '/cwd')).toBe('name:/d');
    expect(resolveVolumeSource('./no-target', '/cwd')).toBe('./no-target');
  });
});
