/**
 * The real figures --explain shows next to its sentences: how many processes and network
 * interfaces the host has, the namespace ids of the host and of the container's init, the
 * mount tables before and after pivot_root. Read from /proc and /sys by the parent, while
 * the init is held before exec (runtime/run.ts does not queue the start with --explain).
 * Every read may fail (the process is gone): then the figure is left out, never invented.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

export interface HostFigures {
  processCount(): number | null;
  interfaces(): string[] | null;
  hostname(): string;
  /** /proc/PID/ns/NAME targets ("net:[4026531840]" -> "4026531840"), for "self" or a pid. */
  namespaceIds(pid: number | 'self'): Record<string, string>;
  /** Mount points and types, from /proc/PID/mountinfo. */
  mounts(pid: number | 'self'): { target: string; fstype: string }[] | null;
  /** A cgroup file's content, trimmed; null if unreadable. */
  cgroupFile(group: string, file: string): string | null;
}

export const NAMESPACES = ['mnt', 'uts', 'ipc', 'net', 'pid', 'cgroup'] as const;

export const linuxHostFigures: HostFigures = {
  processCount() {
    try {
      return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
    } catch {
      return null;
    }
  },
  interfaces() {
    try {
      return readdirSync('/sys/class/net').sort();
    } catch {
      return null;
    }
  },
  hostname: () => hostname(),
  namespaceIds(pid) {
    const ids: Record<string, string> = {};
    for (const ns of NAMESPACES) {
      try {
        ids[ns] = /\[(\d+)\]/.exec(readlinkSync(`/proc/${pid}/ns/${ns}`))?.[1] ?? '?';
      } catch {
        // gone, or no such namespace on this kernel
      }
    }
    return ids;
  },
  mounts(pid) {
    try {
      return readFileSync(`/proc/${pid}/mountinfo`, 'utf8').trim().split('\n').map((line) => {
        const [left, right] = line.split(' - ');
        return { target: unescape(left!.split(' ')[4]!), fstype: right!.split(' ')[0]! };
      });
    } catch {
      return null;
    }
  },
  cgroupFile(group, file) {
    try {
      return readFileSync(`${group}/${file}`, 'utf8').trim();
    } catch {
      return null;
    }
  },
};

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}
