/**
 * Issue 16.8: under --read-only, /tmp, /var/tmp and /run get a writable tmpfs each, as
 * with podman, unless --read-only-tmpfs=false. Before the fix every write to /tmp failed
 * with EROFS.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { sh } from '../helpers/tsbox.js';

/** "/tmp rw,nosuid,..." for each of the paths, from the container's mountinfo. */
const MOUNTS = `awk '$5=="/tmp"||$5=="/var/tmp"||$5=="/run"||$5=="/tmp/data"{print $5, $6, $9}' /proc/self/mountinfo`;

describe('--read-only and its tmpfs mounts', () => {
  const scratch = mkdtempSync(join(inject('workDir'), 'rotmpfs-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('/tmp, /var/tmp and /run are writable tmpfs (rw,nosuid,nodev; noexec but on /run), mode 1777; the rest stays read-only', async () => {
    const r = await sh(`for d in /tmp /var/tmp /run; do echo x > $d/f && echo "$d written"; done; (echo x > /etc/f) 2>/dev/null || echo "/etc refused"; ${MOUNTS}; stat -c '%a %n' /tmp /var/tmp /run`, ['--read-only']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.slice(0, 4)).toEqual(['/tmp written', '/var/tmp written', '/run written', '/etc refused']);
    const mounts = new Map(lines.slice(4, 7).map((l) => [l.split(' ')[0]!, l.split(' ')]));
    for (const path of ['/tmp', '/var/tmp', '/run']) {
      const [, options, fstype] = mounts.get(path) ?? [];
      expect(fstype, path).toBe('tmpfs');
      expect(options?.split(','), path).toEqual(expect.arrayContaining(['rw', 'nosuid', 'nodev']));
      expect(options?.split(',').includes('noexec'), path).toBe(path !== '/run');
    }
    expect(lines.slice(7)).toEqual(['1777 /tmp', '1777 /var/tmp', '1777 /run']);
  });

  it('--read-only-tmpfs=false keeps them read-only', async () => {
    const r = await sh(`(echo x > /tmp/f) 2>/dev/null && echo written || echo refused; ${MOUNTS}`, ['--read-only', '--read-only-tmpfs=false']);
    expect(r.stdout).toBe('refused\n');
  });

  it('without --read-only nothing is added (/tmp is the image\'s)', async () => {
    const r = await sh(MOUNTS);
    expect(r.stdout).toBe('');
  });

  it("the user's --tmpfs keeps its options, and a volume inside /tmp stays visible", async () => {
    writeFileSync(join(scratch, 'note'), 'from the host\n');
    const r = await sh(`cat /tmp/data/note; ${MOUNTS}`, ['--read-only', '--tmpfs', '/run:size=1m', '-v', `${scratch}:/tmp/data:ro`]);
    expect(r.stderr).toBe('');
    const [note, ...mounts] = r.stdout.trim().split('\n');
    expect(note).toBe('from the host');
    const run = mounts.filter((l) => l.startsWith('/run '));
    expect(run).toHaveLength(1);
    expect(run[0]).toMatch(/noexec/); // the user's --tmpfs defaults (docker's), not --read-only's /run
    expect(mounts.map((l) => l.split(' ')[0])).toEqual(['/tmp', '/var/tmp', '/tmp/data', '/run']);
    expect(readFileSync(join(scratch, 'note'), 'utf8')).toBe('from the host\n');
  });
});
