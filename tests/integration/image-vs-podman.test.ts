/**
 * `tsbox run IMAGE` against `podman run` of the same image, built here by podman (t-base:
 * imported with CMD/ENV/WORKDIR/EXPOSE/USER; t-app: FROM it, a RUN that deletes a file,
 * replaces a directory (an opaque whiteout), adds a hard link and a symlink, then ENV,
 * USER 1000:1000, ENTRYPOINT ["/bin/echo"], CMD ["x"]). Same command line, same output:
 * the image's files with its whiteouts applied, its env, user, working directory,
 * entrypoint and cmd, and docker's rules for overriding each.
 *
 * Left out of the comparison, as they are the engine's and not the image's: HOSTNAME (the
 * container id), `container=podman`, and HOME for a user the image's /etc/passwd lacks
 * (podman adds the user to /etc/passwd with the working directory as home; docker, and
 * tsbox, give HOME=/). A -w that does not exist is created by tsbox (docker's rule) and refused by
 * this podman (4.3), so the override case names one that exists; the image's WORKDIR /work,
 * missing from its files, is created by both.
 */
import { describe, expect, it } from 'vitest';
import { usePodmanImages, type PodmanImages } from '../helpers/podman-images.js';
import { tsbox } from '../helpers/tsbox.js';

let imgs: PodmanImages;

usePodmanImages('tsbox-image-vs-podman-', (made) => (imgs = made.imgs), 180_000);

const FILES = 'cat /etc/f2; [ /etc/f1 -ef /etc/f2 ] && echo linked; readlink /etc/sl; ls -a /etc | grep -c motd; ls -a /usr/share/doc/demo; ls /var/keep; stat -c "%a %u %g" /tmp /etc /usr/share/doc/demo';
const WHO = 'id -u; id -g; id -G; pwd; env | grep -v -E "^(HOSTNAME|HOME|container)=" | sort';

/** Flags and arguments around the image, the same for both engines. */
const cases: Array<{ name: string; image: 'app' | 'base'; before: string[]; after: string[] }> = [
  { name: "the image's Entrypoint + Cmd", image: 'app', before: [], after: [] },
  { name: 'arguments replace Cmd, not Entrypoint', image: 'app', before: [], after: ['a', 'b c'] },
  { name: '--entrypoint replaces Entrypoint and drops Cmd', image: 'app', before: ['--entrypoint', '/bin/pwd'], after: [] },
  { name: 'files: whiteouts, opaque directory, hard link, symlink, modes and owners', image: 'app', before: ['--entrypoint', '/bin/sh'], after: ['-c', FILES] },
  { name: "env, user and working directory from the image", image: 'app', before: ['--entrypoint', '/bin/sh'], after: ['-c', WHO] },
  { name: '-e, -u and -w override the image', image: 'app', before: ['-e', 'FOO=cli', '-e', 'NEW=1', '-u', '0:0', '-w', '/var/keep', '--entrypoint', '/bin/sh'], after: ['-c', WHO] },
  { name: "the base image's Cmd (sh -c) and WORKDIR", image: 'base', before: [], after: [] },
  { name: 'a command replaces the base image\'s Cmd', image: 'base', before: [], after: ['/bin/sh', '-c', WHO] },
];

describe('tsbox run IMAGE shows what podman run shows', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const archive = c.image === 'app' ? imgs.dockerArchive : imgs.baseArchive;
      const ref = c.image === 'app' ? 'localhost/t-app:latest' : 'localhost/t-base:latest';
      const ours = await tsbox(['run', '--rm', ...c.before, archive, ...c.after], { timeoutMs: 60_000 });
      const theirs = imgs.run([...c.before, ref, ...c.after]);
      expect(theirs.code).toBe(0);
      expect(ours.stderr).toBe('');
      expect(ours.stdout).toBe(theirs.stdout);
      expect(ours.code).toBe(0);
    });
  }

  it('the same through every archive format (stacked layers each time)', async () => {
    const theirs = imgs.run(['--entrypoint', '/bin/sh', 'localhost/t-app:latest', '-c', FILES]);
    for (const which of ['ociArchive', 'ociDir', 'dockerDir', 'ociZstd'] as const) {
      const ours = await tsbox(['run', '--rm', '--entrypoint', '/bin/sh', imgs[which], '-c', FILES], { timeoutMs: 60_000 });
      expect([which, ours.code, ours.stdout]).toEqual([which, 0, theirs.stdout]);
    }
  });
});
