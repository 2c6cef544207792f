/**
 * Checks on an image config that must fail the load, not the run: every value a run would
 * apply (config-merge.ts), e.g. a numeric user or group above int32 (CVE-2024-40635:
 * containerd wrapped it to 0, root). An image that cannot run is never stored. Pure.
 */
import { DocumentError, type ImageConfig } from './documents.js';
import { ImageConfigError, imageDefaultsFromConfig } from './config-merge.js';

export function acquireCheck(config: ImageConfig): void {
  try {
    imageDefaultsFromConfig(config);
  } catch (err) {
    if (err instanceof ImageConfigError) throw new DocumentError(`image config: ${err.message}`);
    throw err;
  }
}
