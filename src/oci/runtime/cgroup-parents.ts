/**
 * The parent groups a container's create made for its cgroupsPath (/libpod_parent, /k8s.io):
 * removed again with the container when nothing else uses them, so that no group of ours
 * stays behind. Their own module: delete loads it without create's code.
 */
import { rmdirSync } from 'node:fs';

/** Parent groups this container's create made, innermost first, if nothing else uses them now. */
export function removeEmptyParents(parents: readonly string[]): void {
  for (const p of parents) {
    try {
      rmdirSync(p);
    } catch {
      return; // another container's group is inside (EBUSY/ENOTEMPTY), or already gone
    }
  }
}
