/**
 * Mount an image's layers (plus an optional upper) as overlayfs, the way chooseStacking
 * (mount-plan.ts) decides: `lowerdir+` one layer per fsconfig call when the kernel has it
 * (probed once per process: fsconfig answers EINVAL for a key it does not know), else one
 * mount(2) option string that is checked to fit in a page. A thin executor: the decision
 * is in mount-plan.ts; the mount code of the runtime may call it or walk the same plan.
 */
import { fsconfigCreate, fsconfigString, fsmount, fsopen, moveMountToPath, closeFd } from '../../sys/fsmount.js';
import { mount } from '../../sys/mount.js';
import { SysError } from '../../sys/sys-error.js';
import { chooseStacking, escapeLower } from './mount-plan.js';

let lowerdirPlus: boolean | null = null;

/** Does this kernel's overlayfs take `lowerdir+` through fsconfig (Linux 6.8+)? */
export function probeLowerdirPlus(): boolean {
  if (lowerdirPlus !== null) return lowerdirPlus;
  let fd: number;
  try {
    fd = fsopen('overlay');
  } catch {
    return (lowerdirPlus = false);
  }
  try {
    fsconfigString(fd, 'lowerdir+', '/');
    lowerdirPlus = true;
  } catch (err) {
    if (!(err instanceof SysError)) throw err;
    lowerdirPlus = false;
  } finally {
    closeFd(fd);
  }
  return lowerdirPlus;
}

export interface OverlayTarget {
  lowerDirs: string[];
  upper?: { upperdir: string; workdir: string };
  readOnly: boolean;
  /** 'mount2' forces the one-string mount(2) path (kernels without lowerdir+; tests). */
  api?: 'auto' | 'mount2';
}

export class NeedsFlattenError extends Error {}

/** Mount the overlay at `target`. Throws NeedsFlattenError when stacking cannot represent it. */
export function mountOverlay(spec: OverlayTarget, target: string): void {
  const fixed: Array<[string, string]> = [['redirect_dir', 'nofollow'], ['metacopy', 'off']];
  if (spec.upper) fixed.push(['upperdir', spec.upper.upperdir], ['workdir', spec.upper.workdir]);
  const other = fixed.map(([k, v]) => `${k}=${k.endsWith('dir') ? escapeLower(v) : v}`).join(',');
  const how = chooseStacking(spec.lowerDirs, spec.api !== 'mount2' && probeLowerdirPlus(), other);
  if (how.kind === 'flatten') throw new NeedsFlattenError(how.why);
  if (how.kind === 'mount-option') {
    mount('overlay', target, 'overlay', spec.readOnly ? 1 : 0, `lowerdir=${how.lowerdir},${other}`);
    return;
  }
  const fs = fsopen('overlay');
  try {
    fsconfigString(fs, 'source', 'overlay');
    for (const dir of how.values) fsconfigString(fs, 'lowerdir+', dir);
    for (const [k, v] of fixed) fsconfigString(fs, k, v);
    fsconfigCreate(fs);
    const mnt = fsmount(fs, spec.readOnly ? 1 : 0);
    try {
      moveMountToPath(mnt, target);
    } finally {
      closeFd(mnt);
    }
  } finally {
    closeFd(fs);
  }
}
