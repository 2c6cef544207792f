/**
 * An in-memory cgroup2 file system for the manager's unit tests: it keeps the kernel rules
 * the manager relies on (controllers flow down through cgroup.subtree_control, interface
 * files appear with the controller, no controllers for children of a group with processes,
 * rmdir refuses a busy group, cgroup.kill empties a subtree) and can be told to fail.
 */
import { posix } from 'node:path';
import type { CgroupFs } from '../../src/cgroups/cgroupfs.js';

const CORE = ['cgroup.procs', 'cgroup.events', 'cgroup.kill', 'cgroup.freeze', 'cgroup.subtree_control', 'cgroup.controllers', 'cpu.stat'];
const FILES: Record<string, string[]> = {
  cpuset: ['cpuset.cpus', 'cpuset.mems'],
  cpu: ['cpu.max', 'cpu.weight'],
  memory: ['memory.max', 'memory.low', 'memory.swap.max', 'memory.current', 'memory.peak', 'memory.events'],
  pids: ['pids.max', 'pids.current'],
  io: ['io.max', 'io.stat'],
};

function errno(code: string, op: string, path: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: fake ${op} failure, ${op} '${path}'`) as NodeJS.ErrnoException;
  e.code = code;
  return e;
}

interface Group {
  created: number;
  subtree: Set<string>;
  values: Map<string, string>;
  pids: Set<number>;
  isRoot: boolean;
}

export interface FakeOptions {
  mount?: string;
  /** Controllers the root offers. */
  controllers?: string[];
  /** Extra mountinfo lines (e.g. cgroup v1 mounts). */
  extraMountinfo?: string;
  /** Old kernel: no cgroup.kill file. */
  noKill?: boolean;
  writable?: boolean;
}

export class FakeCgroupFs implements CgroupFs {
  readonly mount: string;
  readonly groups = new Map<string, Group>();
  readonly ops: string[] = [];
  /** path -> errno code to fail the next write (or mkdir) with. */
  readonly failures = new Map<string, string>();
  /** Pids that survive this many SIGKILLs / cgroup.kill before dying (slow exit). */
  readonly stubborn = new Map<number, number>();
  selfCgroupText = '0::/\n';
  /** The fake clock: mkdir stamps each group with it (mtimeMs). */
  now = 0;
  private readonly opts: FakeOptions;

  constructor(opts: FakeOptions = {}) {
    this.opts = opts;
    this.mount = opts.mount ?? '/sys/fs/cgroup';
    this.groups.set(this.mount, { created: 0, subtree: new Set(), values: new Map(), pids: new Set([1]), isRoot: true });
  }

  private controllersOf(path: string): Set<string> {
    const g = this.groups.get(path);
    if (g?.isRoot) return new Set(this.opts.controllers ?? Object.keys(FILES));
    return new Set(this.groups.get(posix.dirname(path))?.subtree ?? []);
  }

  private split(path: string): { dir: string; file: string; group: Group | undefined } {
    const dir = posix.dirname(path);
    return { dir, file: posix.basename(path), group: this.groups.get(dir) };
  }

  private hasFile(dir: string, file: string): boolean {
    const g = this.groups.get(dir);
    if (!g) return false;
    if (CORE.includes(file)) return !(g.isRoot && ['cgroup.events', 'cgroup.kill', 'cgroup.freeze'].includes(file)) && !(this.opts.noKill && file === 'cgroup.kill');
    const controllers = this.controllersOf(dir);
    return !g.isRoot && Object.entries(FILES).some(([c, files]) => controllers.has(c) && files.includes(file));
  }

  populated(path: string): boolean {
    return [...this.groups.entries()].some(([p, g]) => (p === path || p.startsWith(path + '/')) && g.pids.size > 0);
  }

  read(path: string): string {
    const { dir, file, group } = this.split(path);
    if (!group || !this.hasFile(dir, file)) throw errno('ENOENT', 'open', path);
    switch (file) {
      case 'cgroup.procs':
        return [...group.pids].map((p) => `${p}\n`).join('');
      case 'cgroup.events':
        return `populated ${this.populated(dir) ? 1 : 0}\nfrozen 0\n`;
      case 'cgroup.subtree_control':
        return [...group.subtree].join(' ') + '\n';
      case 'cgroup.controllers':
        return [...this.controllersOf(dir)].join(' ') + '\n';
      default:
        return group.values.get(file) ?? '0\n';
    }
  }

  write(path: string, value: string): void {
    this.ops.push(`write ${path} ${value}`);
    const failure = this.failures.get(path);
    if (failure) throw errno(failure, 'write', path);
    const { dir, file, group } = this.split(path);
    if (!group || !this.hasFile(dir, file)) throw errno('ENOENT', 'open', path);
    if (file === 'cgroup.subtree_control') {
      if (!group.isRoot && group.pids.size > 0) throw errno('EBUSY', 'write', path);
      for (const token of value.split(/\s+/)) {
        const c = token.slice(1);
        if (!this.controllersOf(dir).has(c)) throw errno('ENOENT', 'write', path);
        if (token.startsWith('+')) group.subtree.add(c);
        else group.subtree.delete(c);
      }
    } else if (file === 'cgroup.kill') {
      for (const [p, g] of this.groups) if (p === dir || p.startsWith(dir + '/')) for (const pid of [...g.pids]) this.kill(pid, 'SIGKILL');
    } else if (file === 'cgroup.procs') {
      const pid = Number(value);
      for (const g of this.groups.values()) g.pids.delete(pid);
      group.pids.add(pid);
    } else {
      group.values.set(file, value);
    }
  }

  mkdir(path: string): void {
    this.ops.push(`mkdir ${path}`);
    const failure = this.failures.get(path);
    if (failure) throw errno(failure, 'mkdir', path);
    if (this.groups.has(path)) throw errno('EEXIST', 'mkdir', path);
    if (!this.groups.has(posix.dirname(path))) throw errno('ENOENT', 'mkdir', path);
    this.groups.set(path, { created: this.now, subtree: new Set(), values: new Map(), pids: new Set(), isRoot: false });
  }

  rmdir(path: string): void {
    this.ops.push(`rmdir ${path}`);
    const g = this.groups.get(path);
    if (!g) throw errno('ENOENT', 'rmdir', path);
    const hasChildren = [...this.groups.keys()].some((p) => p.startsWith(path + '/'));
    if (g.pids.size > 0 || hasChildren) throw errno('EBUSY', 'rmdir', path);
    this.groups.delete(path);
  }

  exists(path: string): boolean {
    if (this.groups.has(path)) return true;
    const { dir, file } = this.split(path);
    return this.hasFile(dir, file);
  }

  listDirs(path: string): string[] {
    if (!this.groups.has(path)) throw errno('ENOENT', 'scandir', path);
    return [...this.groups.keys()].filter((p) => posix.dirname(p) === path && p !== path).map((p) => posix.basename(p));
  }

  isWritable(): boolean {
    return this.opts.writable ?? true;
  }

  kill(pid: number, signal: NodeJS.Signals): void {
    this.ops.push(`kill ${pid} ${signal}`);
    const group = [...this.groups.values()].find((g) => g.pids.has(pid));
    if (!group) throw errno('ESRCH', 'kill', String(pid));
    const left = this.stubborn.get(pid) ?? 0;
    if (left > 0) {
      this.stubborn.set(pid, left - 1);
      return;
    }
    group.pids.delete(pid);
  }

  mtimeMs(path: string): number {
    const g = this.groups.get(path);
    if (!g) throw errno('ENOENT', 'stat', path);
    return g.created;
  }

  mountinfo(): string {
    return `41 31 0:38 / ${this.mount} rw,relatime - cgroup2 cgroup2 rw\n${this.opts.extraMountinfo ?? ''}`;
  }

  selfCgroup(): string {
    return this.selfCgroupText;
  }
}
