/**
 * The host's device nodes directly under /dev, for --privileged (see mounts/plan.ts).
 * Subdirectories (pts, shm, disk/by-id...) and symlinks are not devices of their own.
 */
import { lstatSync, readdirSync } from 'node:fs';
import type { HostDevice } from '../mounts/plan.js';

export function listHostDevices(dir = '/dev'): HostDevice[] {
  const devices: HostDevice[] = [];
  for (const name of readdirSync(dir)) {
    let st;
    try {
      st = lstatSync(`${dir}/${name}`);
    } catch {
      continue; // gone between readdir and lstat
    }
    if (!st.isCharacterDevice() && !st.isBlockDevice()) continue;
    // Linux's dev_t encoding (glibc's major()/minor()).
    const major = ((st.rdev >> 8) & 0xfff) | Math.floor(st.rdev / 2 ** 32) & ~0xfff;
    const minor = (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00);
    devices.push({ name, mode: st.mode, major, minor });
  }
  return devices;
}
