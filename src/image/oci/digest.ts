/**
 * Digest strings. A digest from a document becomes a file name (blobs/sha256/<hex>, the
 * layer store's <hex>), so it is checked against one strict form before any use:
 * CVE-2024-3727 was digests like "sha256:../../x" used as paths. Pure.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';

export const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

export const digestSchema = z.string().regex(DIGEST_RE, 'not a sha256 digest (sha256:<64 lowercase hex digits>)');

export type Digest = `sha256:${string}`;

export function isDigest(text: string): text is Digest {
  return DIGEST_RE.test(text);
}

/** The hex part of a checked digest. */
export function hexOf(digest: string): string {
  if (!isDigest(digest)) throw new Error(`not a sha256 digest: ${JSON.stringify(digest)}`);
  return digest.slice('sha256:'.length);
}

export function sha256(data: Uint8Array | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}
