/**
 * The cgroup v2 group this process runs in, as a directory of the mounted hierarchy: where a
 * helper of ours goes back to once it no longer belongs in a container's group.
 */
import { join } from 'node:path';
import { nodeCgroupFs, type CgroupFs } from './cgroupfs.js';
import { ownCgroup2Path } from './destroy.js';
import { findCgroup2Mount } from './mountinfo.js';

/** "/sys/fs/cgroup/unified/user.slice/..." for this process, or null without cgroup v2. */
export function ownCgroupDir(fs: CgroupFs = nodeCgroupFs): string | null {
  const mount = findCgroup2Mount(fs.mountinfo());
  const own = ownCgroup2Path(fs.selfCgroup());
  return mount === null || own === null ? null : join(mount, own);
}
