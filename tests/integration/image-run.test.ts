/**
 * `tsbox run ARCHIVE CMD` with the archives podman makes: the container sees the image's
 * files (whiteouts applied, hard link, symlink, /tmp 1777), in every format, and
 * ARCHIVE:NAME picks an image of several. The image's config applies (t-app's ENTRYPOINT is
 * /bin/echo): --entrypoint /bin/sh runs the script instead, as in docker.
 */
import { describe, expect, it } from 'vitest';
import { usePodmanImages, type PodmanImages } from '../helpers/podman-images.js';
import { tsbox } from '../helpers/tsbox.js';

let imgs: PodmanImages;

usePodmanImages('tsbox-image-run-', (made) => (imgs = made.imgs), 120_000);

const script = 'cat /etc/f2; [ /etc/f1 -ef /etc/f2 ] && echo linked; readlink /etc/sl; ls /etc/motd 2>/dev/null || echo motd-gone; ls /usr/share/doc/demo; stat -c %a /tmp';

describe('tsbox run ARCHIVE', () => {
  for (const which of ['dockerArchive', 'ociArchive', 'ociDir', 'dockerDir', 'ociZstd'] as const) {
    it(`${which}: the container sees the image's files`, async () => {
      const r = await tsbox(['run', '--rm', '--entrypoint', '/bin/sh', imgs[which]!, '-c', script], { timeoutMs: 60_000 });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('data\nlinked\n/etc/f1\nmotd-gone\nnew\n1777\n');
      expect(r.code).toBe(0);
    });
  }

  it('rmi refuses an image a container (running or stopped) was made from', async () => {
    const started = await tsbox(['run', '-d', '--name', 'img-keep', '--entrypoint', '/bin/sh', imgs.dockerArchive, '-c', 'sleep 60'], { timeoutMs: 60_000 });
    expect(started.code).toBe(0);
    try {
      const refused = await tsbox(['rmi', 'localhost/t-app:latest']);
      expect(refused.code).toBe(125);
      expect(refused.stderr).toMatch(/^tsbox: rmi: cannot remove sha256:[0-9a-f]{64}: used by container img-keep\. Remove those containers first/);
    } finally {
      await tsbox(['rm', '-f', 'img-keep']);
    }
    expect((await tsbox(['rmi', 'localhost/t-app:latest'])).code).toBe(0);
  });

  it('ARCHIVE:NAME picks one image of a multi-image archive; without a name, one line', async () => {
    const base = await tsbox(['run', '--rm', `${imgs.multi}:t-base`, '/bin/cat', '/etc/motd'], { timeoutMs: 60_000 });
    expect([base.code, base.stdout]).toEqual([0, 'hello\n']);
    const none = await tsbox(['run', '--rm', imgs.multi, '/bin/true'], { timeoutMs: 60_000 });
    expect(none.code).toBe(125);
    expect(none.stderr).toMatch(/^tsbox: load image: .*holds 2 images.*\n$/);
  });
});
