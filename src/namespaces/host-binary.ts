/**
 * CVE-2019-5736: a container that reaches the runtime's own binary through /proc/PID/exe
 * (for instance with a "#!/proc/self/exe" entrypoint, which makes the kernel start the
 * runtime's binary inside the container) could open it for writing and replace it on the
 * host. tsbox's init is the host's node binary, so node must not be writable that way.
 *
 * Called on the main thread right after unshare(CLONE_NEWNS), before the init is spawned:
 * in the new mount namespace only, node's path gets a read-only bind of itself. The init
 * is exec'd through that bind, so its /proc/PID/exe (and that of anything started through
 * it) refers to a read-only mount: opening it for writing fails with EROFS. The bind lives
 * only in the container's mount namespace and disappears with it; no copy of node is made
 * (runc's memfd copy costs ~100 MB per container for node).
 */
import { mount, MS } from '../sys/mount.js';

export function bindHostBinaryReadOnly(execPath: string): void {
  // First cut propagation: without this, a bind made here would appear on the host too
  // wherever "/" is a shared mount (systemd's default).
  mount(null, '/', null, MS.REC | MS.PRIVATE);
  mount(execPath, execPath, null, MS.BIND);
  mount(null, execPath, null, MS.REMOUNT | MS.BIND | MS.RDONLY | MS.NOSUID | MS.NODEV);
}
