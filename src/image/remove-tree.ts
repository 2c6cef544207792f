/**
 * Delete an extracted tree. Archives can build trees deeper than PATH_MAX (directories
 * created through symlinks, or just very deep ones), which fs.rm cannot walk: it fails
 * with ENAMETOOLONG. GNU rm walks with directory fds and has no such limit, so it takes
 * over in that case.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

export async function removeTree(path: string): Promise<void> {
  try {
    await fs.rm(path, { recursive: true, force: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENAMETOOLONG') throw err;
    await run('rm', ['-rf', '--one-file-system', '--', path]);
  }
}
