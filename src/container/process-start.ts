/** A process's start time, which tells a pid's reuse apart from the process a record names. */
import { readFileSync } from 'node:fs';

/** Field 22 of /proc/PID/stat (clock ticks after boot), or null when there is no such process. */
export function processStartTime(pid: number): string | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? null;
}
