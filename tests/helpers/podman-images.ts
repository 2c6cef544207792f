/**
 * Test images made with podman on this machine, in an isolated podman storage under the
 * test's temp dir (--root/--runroot/--tmpdir: nothing touches the machine's storage).
 * t-base: a busybox rootfs imported with a config; t-app: built on it with a deleted
 * file, a replaced directory, a hard link and a symlink, then ENV/USER/ENTRYPOINT/CMD.
 * This podman cannot run a RUN step with crun on a hybrid cgroup host, so the build uses
 * --isolation chroot (which requires the host network; the step uses no network).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

export interface PodmanImages {
  dir: string;
  podman(...args: string[]): string;
  /**
   * `podman run --rm` of an image with this host's needs: runc (Debian's podman defaults to
   * crun, which refuses hybrid cgroup hosts), ulimits it can set here, no network.
   * Resolves with the status and output, never throws for a non-zero status.
   */
  run(args: string[]): { code: number | null; stdout: string; stderr: string };
  /** Archives and directories by format. */
  dockerArchive: string;
  ociArchive: string;
  ociDir: string;
  dockerDir: string;
  multi: string;
  ociZstd: string;
  /** null when this podman could not write it. */
  baseArchive: string;
}

function podmanAvailable(): boolean {
  try {
    execFileSync('podman', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * A test file's images: made once before its tests, in a scratch directory (`work`) removed
 * after them; `ready` gets them (and may make more there). Without podman the file fails:
 * tests/setup.sh installs it, and a missing peer must not pass as skipped tests.
 */
export function usePodmanImages(prefix: string, ready: (made: { work: string; imgs: PodmanImages }) => void, timeoutMs = 180_000): void {
  let work: string | undefined;
  beforeAll(() => {
    if (!podmanAvailable()) throw new Error('podman is not installed: run tests/setup.sh');
    work = mkdtempSync(join(tmpdir(), prefix));
    ready({ work, imgs: makePodmanImages(join(work, 'src')) });
  }, timeoutMs);
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });
}

export function makePodmanImages(dir: string): PodmanImages {
  const store = join(dir, 'podman');
  const storage = ['--root', join(store, 'root'), '--runroot', join(store, 'run'), '--tmpdir', join(store, 'tmp'), '--storage-driver', 'vfs'];
  const podman = (...args: string[]): string =>
    execFileSync('podman', [...storage, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const run = (args: string[]) => {
    const r = spawnSync('podman', [...storage, 'run', '--rm', '--runtime', 'runc', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', '--network', 'none', ...args], { encoding: 'utf8', timeout: 120_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const rfs = join(dir, 'rfs');
  for (const d of ['bin', 'etc', 'tmp', 'usr/share/doc/demo', 'var/keep']) mkdirSync(join(rfs, d), { recursive: true });
  copyFileSync('/bin/busybox', join(rfs, 'bin/busybox'));
  chmodSync(join(rfs, 'bin/busybox'), 0o755);
  for (const c of ['sh', 'ls', 'cat', 'echo', 'id', 'env', 'pwd', 'stat', 'readlink']) symlinkSync('busybox', join(rfs, 'bin', c));
  writeFileSync(join(rfs, 'etc/motd'), 'hello\n');
  writeFileSync(join(rfs, 'usr/share/doc/demo/old'), 'a\n');
  writeFileSync(join(rfs, 'var/keep/k'), 'k\n');
  chmodSync(join(rfs, 'tmp'), 0o1777);
  writeFileSync(join(rfs, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(rfs, 'etc/group'), 'root:x:0:\n');
  execFileSync('tar', ['-C', rfs, '-cf', join(dir, 'bb.tar'), '.']);
  podman('import', '--change', 'ENV FOO=bar', '--change', 'CMD ["/bin/sh","-c","echo hi"]', '--change', 'WORKDIR /work', '--change', 'EXPOSE 8080/tcp', '--change', 'USER 0:0', join(dir, 'bb.tar'), 'localhost/t-base:latest');
  const ctx = join(dir, 'ctx');
  mkdirSync(ctx);
  writeFileSync(
    join(ctx, 'Containerfile'),
    [
      'FROM localhost/t-base:latest',
      'RUN rm /etc/motd && rm -rf /usr/share/doc/demo && mkdir -p /usr/share/doc/demo && echo new > /usr/share/doc/demo/new && echo data > /etc/f1 && ln /etc/f1 /etc/f2 && ln -s /etc/f1 /etc/sl',
      'ENV BAR=baz',
      'USER 1000:1000',
      'ENTRYPOINT ["/bin/echo"]',
      'CMD ["x"]',
      '',
    ].join('\n'),
  );
  podman('build', '--isolation', 'chroot', '--network', 'host', '-t', 'localhost/t-app:latest', ctx);
  const out = (n: string): string => join(dir, n);
  podman('save', '--format', 'docker-archive', '-o', out('app-docker.tar'), 'localhost/t-app:latest');
  podman('save', '--format', 'docker-archive', '-o', out('base-docker.tar'), 'localhost/t-base:latest');
  podman('save', '--format', 'oci-archive', '-o', out('app-oci.tar'), 'localhost/t-app:latest');
  podman('save', '--format', 'oci-dir', '-o', out('app-oci-dir'), 'localhost/t-app:latest');
  podman('save', '--format', 'docker-dir', '-o', out('app-dir'), 'localhost/t-app:latest');
  podman('save', '-m', '--format', 'docker-archive', '-o', out('multi.tar'), 'localhost/t-base:latest', 'localhost/t-app:latest');
  podman('push', '--compression-format', 'zstd', 'localhost/t-app:latest', `oci:${out('app-oci-zstd')}:latest`);
  // No zstd:chunked: podman needs its overlay storage for it here ("short write" with vfs);
  // image-hostile-layers.test.ts makes a layer of that shape by hand.
  return {
    dir,
    podman,
    run,
    dockerArchive: out('app-docker.tar'),
    ociArchive: out('app-oci.tar'),
    ociDir: out('app-oci-dir'),
    dockerDir: out('app-dir'),
    multi: out('multi.tar'),
    ociZstd: out('app-oci-zstd'),
    baseArchive: out('base-docker.tar'),
  };
}
