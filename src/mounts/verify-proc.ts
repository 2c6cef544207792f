/**
 * After every mount is in place: what the container sees at /proc must be the root of a
 * procfs. If an image or a volume puts anything else there (a directory of fake files, a
 * tmpfs, a sub-directory of procfs), the masks and read-only binds we placed on /proc/...
 * would protect the wrong tree and tools that trust /proc would be lied to (CVE-2019-16884:
 * a fake /proc made runc skip the AppArmor profile).
 */
import { statfsSync, statSync } from 'node:fs';
import { TsboxError } from '../errors.js';

export const PROC_SUPER_MAGIC = 0x9fa0;
/** The inode number of procfs's root directory (PROC_ROOT_INO). */
export const PROC_ROOT_INO = 1;

export interface ProcFacts {
  fsType: number;
  ino: number;
}

/** Pure: why these facts are not a procfs root, or null when they are. */
export function procProblem(facts: ProcFacts): string | null {
  if (facts.fsType !== PROC_SUPER_MAGIC) return `filesystem type 0x${facts.fsType.toString(16)}, not procfs (0x${PROC_SUPER_MAGIC.toString(16)})`;
  if (facts.ino !== PROC_ROOT_INO) return `inode ${facts.ino}: a directory inside procfs, not its root`;
  return null;
}

export function assertProcfs(path = '/proc'): void {
  const problem = procProblem({ fsType: Number(statfsSync(path).type), ino: Number(statSync(path).ino) });
  if (problem) {
    throw new TsboxError(`${path} in the container is not procfs: ${problem}`, { hint: 'Do not mount a volume or tmpfs on /proc.' });
  }
}
