/**
 * `tsbox top` without ps options prints what `ps -ef` prints for each of the container's
 * processes (docker's default runs the host's ps -ef): UID PID PPID C STIME TTY TIME CMD,
 * read from /proc. Pure: /proc text in, columns out.
 */

export interface ProcFacts {
  pid: number;
  /** /proc/PID/stat */
  stat: string;
  /** /proc/PID/status (for the effective uid) */
  status: string;
  /** /proc/PID/cmdline (NUL-separated) */
  cmdline: string;
}

export interface HostFacts {
  /** Seconds since the epoch at boot (/proc/stat btime). */
  bootTime: number;
  /** Clock ticks per second (sysconf(_SC_CLK_TCK): 100 on Linux). */
  hz: number;
  now: Date;
  userName(uid: number): string | null;
}

export const TOP_HEADER = ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'];

export interface StatFields {
  comm: string;
  ppid: number;
  ttyNr: number;
  utime: number;
  stime: number;
  startTime: number;
}

/** The fields of /proc/PID/stat we need; comm may hold spaces and parentheses, so split after the last ')'. */
export function parseStat(stat: string): StatFields | null {
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const f = stat.slice(close + 2).trim().split(/\s+/);
  // f[0] is field 3 (state): field n is f[n - 3]
  const n = (i: number) => Number(f[i - 3]);
  if (f.length < 20) return null;
  return { comm: stat.slice(open + 1, close), ppid: n(4), ttyNr: n(7), utime: n(14), stime: n(15), startTime: n(22) };
}

export function effectiveUid(status: string): number | null {
  const m = /^Uid:\s+\d+\s+(\d+)/m.exec(status);
  return m ? Number(m[1]) : null;
}

/** ps's TTY column from the stat's tty_nr (major/minor encoded as the kernel's new_encode_dev). */
export function ttyName(ttyNr: number): string {
  if (ttyNr === 0) return '?';
  const major = (ttyNr >> 8) & 0xfff;
  const minor = (ttyNr & 0xff) | ((ttyNr >> 12) & 0xfff00);
  if (major >= 136 && major <= 143) return `pts/${minor + (major - 136) * 256}`;
  if (major === 4 && minor < 64) return `tty${minor}`;
  if (major === 4) return `ttyS${minor - 64}`;
  if (major === 5 && minor === 1) return 'console';
  return '?';
}

/** ps's TIME: cumulative CPU time as [DD-]HH:MM:SS. */
export function cpuTime(seconds: number): string {
  const s = Math.floor(seconds);
  const days = Math.floor(s / 86400);
  const hms = [Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60), s % 60].map((v) => String(v).padStart(2, '0')).join(':');
  return days > 0 ? `${days}-${hms}` : hms;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** ps's STIME: HH:MM when started today, MonDD this year, else the year (local time). */
export function startTimeLabel(started: Date, now: Date): string {
  if (started.toDateString() === now.toDateString()) return `${String(started.getHours()).padStart(2, '0')}:${String(started.getMinutes()).padStart(2, '0')}`;
  if (started.getFullYear() === now.getFullYear()) return `${MONTHS[started.getMonth()]}${String(started.getDate()).padStart(2, '0')}`;
  return String(started.getFullYear());
}

export function topRow(p: ProcFacts, host: HostFacts): string[] | null {
  const st = parseStat(p.stat);
  if (!st) return null;
  const uid = effectiveUid(p.status);
  const started = host.bootTime + st.startTime / host.hz;
  const cpuSeconds = (st.utime + st.stime) / host.hz;
  const elapsed = host.now.getTime() / 1000 - started;
  // ps's C: CPU time over elapsed time, in percent, whole, at most 99.
  const c = elapsed > 0 ? Math.min(99, Math.floor((cpuSeconds * 100) / elapsed)) : 0;
  const args = p.cmdline.split('\0').filter((a, i, all) => !(a === '' && i === all.length - 1)).join(' ');
  return [
    uid === null ? '?' : host.userName(uid) ?? String(uid),
    String(p.pid),
    String(st.ppid),
    String(c),
    startTimeLabel(new Date(started * 1000), host.now),
    ttyName(st.ttyNr),
    cpuTime(cpuSeconds),
    args === '' ? `[${st.comm}]` : args,
  ];
}

/** Columns as ps aligns them: numbers to the right, text to the left, the command last and whole. */
export function formatTop(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const numeric = header.map((h) => h === 'PID' || h === 'PPID' || h === 'C');
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : numeric[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join(' '))
    .join('\n');
}

/** ps's own output, kept to the rows of the given pids: its PID column found from the header, as docker does. */
export function filterPsOutput(output: string, pids: ReadonlySet<number>): string | null {
  const lines = output.replace(/\n$/, '').split('\n');
  const header = lines[0] ?? '';
  const col = header.trim().split(/\s+/).indexOf('PID');
  if (col < 0) return null;
  const kept = lines.slice(1).filter((l) => pids.has(Number(l.trim().split(/\s+/)[col])));
  return [header, ...kept].join('\n');
}

/** /etc/passwd text -> uid -> name. */
export function passwdNames(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split('\n')) {
    const [name, , uid] = line.split(':');
    if (name && uid !== undefined && /^\d+$/.test(uid) && !names.has(Number(uid))) names.set(Number(uid), name);
  }
  return names;
}
