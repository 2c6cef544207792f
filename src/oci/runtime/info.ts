/**
 * The commands that only read or describe: state, list, ps, features, spec.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TsboxError, UsageError } from '../../errors.js';
import { groupPids } from './lifecycle.js';
import type { StateRoot } from './state-dir.js';
import { stateDocument, statusOf } from './status.js';
import { VERSION, OCI_VERSION } from './version.js';

export function stateJson(state: StateRoot, id: string): string {
  return JSON.stringify(stateDocument(state, state.read(id)), null, 2);
}

export function listText(state: StateRoot, format: string): string {
  const rows = state.list().flatMap((id) => {
    try {
      const r = state.read(id);
      return [{ id, pid: r.pid, status: statusOf(state, r), bundle: r.bundle, created: r.created, owner: 'root' }];
    } catch {
      return [];
    }
  });
  if (format === 'json') return JSON.stringify(rows.map((r) => ({ ...r, pid: r.status === 'stopped' ? 0 : r.pid })));
  const lines = ['ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER', ...rows.map((r) => `${r.id}\t${r.status === 'stopped' ? 0 : r.pid}\t${r.status}\t${r.bundle}\t${r.created}\t${r.owner}`)];
  return lines.join('\n');
}

export function psText(state: StateRoot, id: string, format: string): string {
  const r = state.read(id);
  const pids = r.cgroup ? groupPids(r.cgroup) : statusOf(state, r) === 'stopped' ? [] : [r.pid];
  if (format === 'json') return JSON.stringify(pids);
  return ['PID', ...pids.map(String)].join('\n');
}

/** The runtime-spec's features document (features.md): what this tsbox-runtime understands. */
export function featuresJson(): string {
  return JSON.stringify({
    ociVersionMin: '1.0.0',
    ociVersionMax: OCI_VERSION,
    hooks: [],
    mountOptions: ['ro', 'rw', 'nosuid', 'suid', 'nodev', 'dev', 'noexec', 'exec', 'bind', 'rbind', 'relatime', 'norelatime', 'strictatime', 'noatime', 'nodiratime', 'sync', 'dirsync', 'mand'],
    linux: {
      namespaces: ['pid', 'network', 'mount', 'ipc', 'uts', 'cgroup'],
      capabilities: [],
      cgroup: { v1: false, v2: true, systemd: false, systemdUser: false },
      seccomp: { enabled: true, actions: ['SCMP_ACT_ALLOW', 'SCMP_ACT_ERRNO', 'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_LOG', 'SCMP_ACT_TRACE', 'SCMP_ACT_TRAP'], operators: ['SCMP_CMP_EQ', 'SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_GT', 'SCMP_CMP_GE', 'SCMP_CMP_MASKED_EQ'], archs: ['SCMP_ARCH_X86_64'] },
      apparmor: { enabled: false },
      selinux: { enabled: false },
    },
    annotations: { 'org.tsbox.runtime.version': VERSION },
  }, null, 2);
}

/** `spec`: a default config.json in the bundle directory (runc's shape: sh in ./rootfs). */
export function writeDefaultSpec(bundle: string): string {
  const path = join(resolve(bundle), 'config.json');
  if (existsSync(path)) throw new UsageError(`${path} already exists`, { step: 'spec', hint: 'Remove it first.' });
  const caps = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
  const spec = {
    ociVersion: OCI_VERSION,
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps, ambient: caps },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'tsbox',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }],
      maskedPaths: ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
  try {
    writeFileSync(path, `${JSON.stringify(spec, null, 2)}\n`, { flag: 'wx' });
  } catch (err) {
    throw new TsboxError(`cannot write ${path}: ${(err as NodeJS.ErrnoException).code}`, { step: 'spec' });
  }
  return path;
}
