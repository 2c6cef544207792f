// CPU time spent on a transfer, read from cgroup v2 (cpu.stat usage_usec: exact, and it
// includes the softirq work the kernel did while one of the group's tasks was on the CPU,
// which is where most of the network stack's receive and send work runs). Under load,
// CPU per byte moves far less than bytes per second: it does not count the time a
// download waited for a CPU that another engineer's test was using.
import { mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

/** Where cgroup v2 is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid host), or null. */
export function cgroup2Mount() {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [left, right] = line.split(' - ');
    if (right?.startsWith('cgroup2 ')) return left.split(' ')[4];
  }
  return null;
}

/** The cgroup v2 directory of a process (its "0::" line), or null. */
export function cgroupOfPid(mount, pid) {
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'));
  return line ? join(mount, line.slice(3)) : null;
}

/** Microseconds of CPU the group has used so far. */
export function usageUsec(dir) {
  return Number(/^usage_usec (\d+)$/m.exec(readFileSync(join(dir, 'cpu.stat'), 'utf8'))[1]);
}

/** A group of the benchmark's own for the client: run() puts each command in it before exec. */
export function clientGroup(mount) {
  const dir = join(mount, `tsbox-bench-${process.pid}`);
  mkdirSync(dir);
  return {
    dir,
    run: (cmd, args, opts) => spawnSync('sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', dir, cmd, ...args], opts),
    remove: () => rmdirSync(dir),
  };
}
