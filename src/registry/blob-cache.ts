/**
 * A content-addressed blob cache under the state root, until the image store takes the
 * pulled blobs: <root>/blobs/sha256/<hex> holds only verified bytes; downloads accumulate
 * under <root>/blobs/incoming/ with a name derived from the digest, so that a pull killed
 * midway is resumed by the next one.
 */
import { existsSync, statSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkDigest, digestAlgorithm, digestHex, verifyBytes } from './digest.js';

export class BlobCache {
  readonly dir: string;

  constructor(root: string) {
    this.dir = join(root, 'blobs');
  }

  /** The final path of a blob; the digest is validated before it becomes a path. */
  path(digest: string): string {
    checkDigest(digest, 'blob');
    return join(this.dir, digestAlgorithm(digest), digestHex(digest));
  }

  partialPath(digest: string): string {
    checkDigest(digest, 'blob');
    return join(this.dir, 'incoming', `${digestAlgorithm(digest)}-${digestHex(digest)}`);
  }

  /** Present with the expected size (the bytes were verified before the rename that made them appear). */
  has(digest: string, size: number): boolean {
    const p = this.path(digest);
    if (!existsSync(p)) return false;
    return statSync(p).size === size;
  }

  /** Store small bytes already in memory (manifest, config), verified, through a temp name. */
  async put(digest: string, bytes: Buffer): Promise<void> {
    verifyBytes(bytes, digest, 'blob');
    const p = this.path(digest);
    if (existsSync(p)) return;
    const tmp = `${this.partialPath(digest)}.${process.pid}`;
    await mkdir(join(this.dir, 'incoming'), { recursive: true });
    await mkdir(join(this.dir, digestAlgorithm(digest)), { recursive: true });
    try {
      await writeFile(tmp, bytes);
      await rename(tmp, p);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }
}
