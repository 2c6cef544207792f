/**
 * Entering the working directory, after pivot_root. The path (from -w or the image) is
 * resolved inside the new root like a mount target (fs/in-root), so it cannot
 * reach outside the container:
 *  - CVE-2024-21626: "-w /proc/self/fd/N" named an fd runc had leaked to a host directory,
 *    and the command started with its cwd on the host. openat2 refuses /proc magic links
 *    (RESOLVE_NO_MAGICLINKS); the userspace fallback reads them as plain strings, which then
 *    resolve inside the root.
 *  - Missing directories are created relative to a parent fd, so a mkdir cannot land on the
 *    host either (a plain mkdir -p of /proc/self/fd/N/x would).
 * getcwd() is checked afterwards as a second line.
 */
import { TsboxError } from '../errors.js';
import { InRoot, type InRootSys } from '../fs/in-root/resolver.js';
import { fchdir } from '../sys/process.js';

export function enterWorkingDirectoryInRoot(cwd: string, sys: InRootSys): void {
  const root = InRoot.open('/', sys);
  try {
    let fd: number;
    try {
      fd = root.ensure(cwd, 'dir');
    } catch (err) {
      const e = err instanceof TsboxError ? err : new TsboxError((err as Error).message, { cause: err });
      // The resolver's message already names the path; the hint is about -w, not mount points.
      throw new TsboxError(e.message, { hint: 'Pass a directory inside the image to -w/--workdir.', cause: err });
    }
    try {
      // fchdir, not chdir(/proc/self/fd/N): the exec-init lives outside the container's PID
      // namespace, where the container's /proc has no "self" for it.
      fchdir(fd);
      process.chdir('.'); // Node caches its cwd; a chdir of its own clears that cache
    } finally {
      sys.close(fd);
    }
  } finally {
    root.close();
  }
  const real = process.cwd();
  if (!real.startsWith('/') || real.startsWith('/proc/')) {
    throw new TsboxError(`working directory ${cwd} resolves outside the container's root`, { hint: 'Use a directory inside the image.' });
  }
}
