/**
 * Where the cgroup hierarchies are, read from /proc/self/mountinfo text. Pure.
 *
 * A mountinfo line: "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw"
 * (id, parent, dev, root, mount point, options, optional fields, "-", fstype, source,
 * super options). Paths escape space, tab, newline and backslash as octal (\040).
 */

interface MountLine {
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

function parseMountinfo(text: string): MountLine[] {
  const mounts: MountLine[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ');
    const dash = fields.indexOf('-', 6);
    if (dash < 0 || fields.length < dash + 3) continue;
    mounts.push({
      mountPoint: unescapeOctal(fields[4]!),
      fsType: fields[dash + 1]!,
      superOptions: (fields[dash + 3] ?? '').split(','),
    });
  }
  return mounts;
}

/** The usual places, best first: unified hosts, then hybrid (systemd's layout). */
const PREFERRED = ['/sys/fs/cgroup', '/sys/fs/cgroup/unified'];

/**
 * The cgroup2 mount point to use, or null when there is none: the usual places first, else
 * the first cgroup2 mount listed. Every path we use is relative to the mount point, so it
 * does not matter which group the mount shows as its root (inside a container, its own).
 */
export function findCgroup2Mount(mountinfo: string): string | null {
  const points = parseMountinfo(mountinfo)
    .filter((m) => m.fsType === 'cgroup2')
    .map((m) => m.mountPoint);
  return PREFERRED.find((p) => points.includes(p)) ?? points[0] ?? null;
}

/** cgroup v1 names of the v2 controllers where they differ. */
const V1_NAME: Record<string, string> = { io: 'blkio' };

/**
 * The v2 controllers that are bound to a cgroup v1 hierarchy, with its mount point
 * ({ memory: '/sys/fs/cgroup/memory' }): a controller can be in one hierarchy only, so these
 * are the reason cgroup2 lacks them on a hybrid host.
 */
export function findV1Controllers(mountinfo: string): Map<string, string> {
  const bound = new Map<string, string>();
  for (const m of parseMountinfo(mountinfo)) {
    if (m.fsType !== 'cgroup') continue;
    for (const controller of ['cpuset', 'cpu', 'io', 'memory', 'pids', 'hugetlb', 'rdma', 'misc']) {
      if (m.superOptions.includes(V1_NAME[controller] ?? controller) && !bound.has(controller)) bound.set(controller, m.mountPoint);
    }
  }
  return bound;
}
