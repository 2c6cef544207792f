/**
 * Digests: validated before they are used in a URL or a path (CVE-2024-3727: a digest
 * string is attacker-controlled), and computed while bytes stream past.
 */
import { createHash, type Hash } from 'node:crypto';
import { RegistryError } from './errors.js';

const DIGEST_RE = /^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/;

export function isDigest(s: unknown): s is string {
  return typeof s === 'string' && DIGEST_RE.test(s);
}

export function checkDigest(s: unknown, what: string): string {
  if (!isDigest(s)) throw new RegistryError(`${what} has an invalid digest '${String(s).slice(0, 80)}'`, { hint: 'Only sha256 and sha512 digests in lower-case hexadecimal are accepted.' });
  return s;
}

export function digestAlgorithm(digest: string): 'sha256' | 'sha512' {
  return digest.slice(0, digest.indexOf(':')) as 'sha256' | 'sha512';
}

export function digestHex(digest: string): string {
  return digest.slice(digest.indexOf(':') + 1);
}

export function hasherFor(digest: string): Hash {
  return createHash(digestAlgorithm(digest));
}

export function digestOf(bytes: Buffer, algorithm: 'sha256' | 'sha512' = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** Throw unless `bytes` hash to `expected` (same algorithm). */
export function verifyBytes(bytes: Buffer, expected: string, what: string): void {
  const actual = digestOf(bytes, digestAlgorithm(expected));
  if (actual !== expected) throw new RegistryError(`${what}: digest mismatch: expected ${expected}, got ${actual}`, { hint: 'The registry sent other bytes than the digest names: the image or the registry storage is corrupt.' });
}
