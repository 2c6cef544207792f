/**
 * The container's root as an overlay of an image's stacked layers (top first), the way the
 * parent decided (image/run-layers.ts):
 * - fsconfig: `lowerdir+` one layer per call through the new mount API (Linux 6.8+), so no
 *   option string is ever cut at a page (mount(2) cuts it without an error);
 * - mount: one mount(2) string, which the parent checked fits in a page.
 * `redirect_dir=nofollow,metacopy=off`: a layer from an archive cannot make overlay follow
 * a redirect or a metacopy xattr to another layer's file (the layer store refuses those
 * xattrs as well). `volatile` as for a one-tree root (mounts/plan.ts overlayOptions).
 */
import { closeFd, fsconfigCreate, fsconfigFlag, fsconfigString, fsmount, fsopen, moveMountToPath } from '../sys/fsmount.js';
import { mount, MS } from '../sys/mount.js';
import { overlayOptions } from './plan.js';

const MOUNT_ATTR_NODEV = 0x4;
const HARDENING: Array<[string, string]> = [['redirect_dir', 'nofollow'], ['metacopy', 'off']];

export interface StackedOverlay {
  api: 'fsconfig' | 'mount';
  /** Top layer first. */
  dirs: string[];
  upper: string;
  work: string;
  merged: string;
  nodev: boolean;
  volatile: boolean;
}

export function mountStackedOverlay(o: StackedOverlay): void {
  if (o.api === 'mount') {
    const options = `${overlayOptions(o.dirs, o.upper, o.work, { volatile: o.volatile })},${HARDENING.map(([k, v]) => `${k}=${v}`).join(',')}`;
    mount('overlay', o.merged, 'overlay', o.nodev ? MS.NODEV : 0, options);
    return;
  }
  const fs = fsopen('overlay');
  try {
    fsconfigString(fs, 'source', 'overlay');
    for (const dir of o.dirs) fsconfigString(fs, 'lowerdir+', dir);
    fsconfigString(fs, 'upperdir', o.upper);
    fsconfigString(fs, 'workdir', o.work);
    for (const [k, v] of HARDENING) fsconfigString(fs, k, v);
    if (o.volatile) fsconfigFlag(fs, 'volatile');
    fsconfigCreate(fs);
    const mnt = fsmount(fs, o.nodev ? MOUNT_ATTR_NODEV : 0);
    try {
      moveMountToPath(mnt, o.merged);
    } finally {
      closeFd(mnt);
    }
  } finally {
    closeFd(fs);
  }
}
