/**
 * Checks on an image config that must fail the load, not the run. Pure.
 * A numeric user or group above int32 (CVE-2024-40635: containerd wrapped it to 0, root).
 */
import { DocumentError, type ImageConfig } from './documents.js';

const MAX_ID = 2 ** 31 - 1;

export function acquireCheck(config: ImageConfig): void {
  const user = config.config?.User ?? '';
  for (const part of user.split(':')) {
    if (/^[0-9]+$/.test(part) && (part.length > 10 || Number(part) > MAX_ID)) {
      throw new DocumentError(`image config: User ${JSON.stringify(user)} has an id above ${MAX_ID}`);
    }
  }
}
