// What the benchmarks share: the CLI's path, numeric flags, and a scratch workspace with a
// private tsbox state root and an isolated podman storage (nothing touches the machine's).
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TSBOX = fileURLToPath(new URL('../bin/tsbox', import.meta.url));

/** `--name N` from the command line, or `dflt`. */
export function numberArg(name, dflt) {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) || dflt : dflt;
}

/** A scratch directory under /var/tmp: where the busybox rootfs goes, tsbox's env, podman's storage flags. */
export function workspace() {
  const work = mkdtempSync('/var/tmp/tsbox-bench-');
  const store = join(work, 'podman');
  return {
    work,
    rootfs: join(work, 'busybox.tar'),
    env: { ...process.env, TSBOX_ROOT: join(work, 'root') },
    store,
    podmanBase: ['--root', join(store, 'root'), '--runroot', join(store, 'run'), '--tmpdir', join(store, 'tmp'), '--storage-driver', 'vfs'],
  };
}
