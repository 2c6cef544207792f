/**
 * The init reads the container's /etc/passwd to resolve `-u NAME` (after pivot_root, while
 * it is still root) through the in-root resolver (src/fs/in-root): with openat2, and with the
 * userspace walk (--no-openat2, as before Linux 5.6), which opens the directory by the walk
 * and the file itself with O_NOFOLLOW. Both must find the image's user. (An /etc symlink
 * climbing out of the root cannot be an attack here: after pivot_root the kernel stops ".."
 * at the container's root anyway; the magic-link case is security-exec-escape's.)
 */
import { describe, expect, it } from 'vitest';
import { rootfsTar, tsbox } from '../helpers/tsbox.js';

const RESOLVERS = [
  { name: 'openat2', flags: [] },
  { name: 'userspace fallback', flags: ['--no-openat2'] },
];

describe.each(RESOLVERS)("-u NAME reads the image's /etc/passwd inside the root, $name", ({ flags }) => {
  it("finds the image's user", async () => {
    const r = await tsbox(['run', ...flags, '-u', 'nobody', rootfsTar(), 'id', '-u']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('65534');
  });
});
