/**
 * The container records on disk, one directory per container:
 *
 *   <state dir>/lock                      global: creating, naming, updating and removing records
 *   <state dir>/containers/<short id>/
 *     state.json                          the ContainerRecord, replaced atomically (temp + rename)
 *     owner.lock                          flock held by the process that waits for the container
 *     container.log[.N]                   a detached or named container's output (runtime/log-format.ts)
 *     spec.json                           the RunSpec, for exec and inspect
 *
 * The state dir is /run/tsbox for the default root (it is about processes, gone at reboot
 * with them) and <root>/run for any other, so two roots never share state.
 *
 * Readers need no lock (rename is atomic); every read-modify-write takes the global lock,
 * so concurrent tsbox commands never lose an update or give one name to two containers.
 * A free owner.lock on a record that is not "exited" means its owner died (SIGKILL): the
 * container died with it (PDEATHSIG), and the next reader records that.
 */
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { removeTreeSync } from '../../image/remove-tree.js';
import { join } from 'node:path';
import { TsboxError, UsageError } from '../../errors.js';
import { tryFlock, unflock } from '../../sys/fd.js';
import { parseStateRecord } from '../../container/state-record.js';
import { markOwnerGone, nameTaken, resolveRef, type ContainerRecord } from './record.js';

export const DEFAULT_STATE_DIR = '/run/tsbox';

export function stateDirFor(root: string, defaultRoot: string): string {
  return root === defaultRoot ? DEFAULT_STATE_DIR : join(root, 'run');
}

export interface EntryPaths {
  dir: string;
  state: string;
  ownerLock: string;
  /** container.log: both streams, timestamped; rotated ones are container.log.1... */
  log: string;
  spec: string;
  monitorLog: string;
  /** A created container's: `tsbox start` asks its monitor to start it here (runtime/start-socket.ts). */
  startSocket: string;
  /** A --rm container's: `tsbox wait` hears its exit status here before the record goes (runtime/wait-socket.ts). */
  waitSocket: string;
}

/** A record created by this process, whose owner lock it holds. */
export interface OwnedEntry {
  readonly paths: EntryPaths;
  /** The fd of owner.lock (to hand to a monitor: the flock belongs to the open file). */
  readonly lockFd: number;
  record(): ContainerRecord;
  update(patch: Partial<ContainerRecord>): ContainerRecord;
  /** Remove the record (ephemeral runs, failed starts) and release the lock. */
  remove(): void;
  /** Keep the record, release the lock. */
  release(): void;
}

const LOCK_TIMEOUT_MS = 10_000;

export class StateStore {
  constructor(readonly dir: string) {}

  get containersDir(): string {
    return join(this.dir, 'containers');
  }

  paths(shortId: string): EntryPaths {
    const dir = join(this.containersDir, shortId);
    return {
      dir,
      state: join(dir, 'state.json'),
      ownerLock: join(dir, 'owner.lock'),
      log: join(dir, 'container.log'),
      spec: join(dir, 'spec.json'),
      monitorLog: join(dir, 'monitor.log'),
      startSocket: join(dir, 'start.sock'),
      waitSocket: join(dir, 'wait.sock'),
    };
  }

  /** Run fn holding the global lock. Synchronous on purpose: critical sections are a few file operations. */
  withLock<T>(fn: () => T): T {
    mkdirSync(this.containersDir, { recursive: true, mode: 0o700 });
    const fd = openSync(join(this.dir, 'lock'), 'a', 0o600);
    try {
      const deadline = Date.now() + LOCK_TIMEOUT_MS;
      while (!tryFlock(fd, true)) {
        if (Date.now() > deadline) throw new TsboxError(`the state lock ${join(this.dir, 'lock')} is held for more than ${LOCK_TIMEOUT_MS / 1000} s`, { hint: 'Another tsbox command is stuck; find it with fuser.' });
        sleepMs(5);
      }
      return fn();
    } finally {
      closeSync(fd); // releases the flock
    }
  }

  /** Create the record of a new container, reserving its name; this process holds its owner lock. */
  create(record: ContainerRecord, opts: { reuse?: boolean } = {}): OwnedEntry {
    const paths = this.paths(record.shortId);
    const lockFd = this.withLock(() => {
      if (opts.reuse) return this.reuseLocked(record);
      if (record.name !== null && nameTaken(record.name, this.listRaw())) {
        throw new UsageError(`the container name '${record.name}' is already in use`, { hint: `Remove it first (tsbox rm ${record.name}), or choose another name.` });
      }
      mkdirSync(paths.dir, { mode: 0o700 });
      const fd = openSync(paths.ownerLock, 'wx', 0o600);
      if (!tryFlock(fd, true)) throw new TsboxError(`cannot lock ${paths.ownerLock}`);
      writeAtomic(paths.state, record);
      return fd;
    });
    return this.owned(record.shortId, lockFd, record);
  }

  /**
   * restart: the record of a stopped container takes a new life under the same id, name and
   * log (docker keeps them): its owner lock is taken again, the record rewritten as created.
   */
  private reuseLocked(record: ContainerRecord): number {
    const paths = this.paths(record.shortId);
    const current = this.read(record.shortId);
    if (current === null) throw new UsageError(`no such container: ${record.shortId}`);
    const fd = openSync(paths.ownerLock, 'r+');
    if (!tryFlock(fd, true)) {
      closeSync(fd);
      throw new UsageError(`container ${current.name ?? current.shortId} is not stopped`, { hint: 'Stop it first (tsbox stop), or use tsbox restart.' });
    }
    writeAtomic(paths.state, { ...record, name: current.name, created: current.created, labels: current.labels });
    return fd;
  }

  /** Adopt a record created by another process that handed us its owner lock fd (the monitor). */
  adopt(shortId: string, lockFd: number): OwnedEntry {
    return this.owned(shortId, lockFd);
  }

  /** A record held through its owner lock: the lock is released once, by remove or release. */
  private owned(shortId: string, lockFd: number, created?: ContainerRecord): OwnedEntry {
    const paths = this.paths(shortId);
    let closed = false;
    const close = () => {
      if (!closed) closeSync(lockFd);
      closed = true;
    };
    return {
      paths,
      lockFd,
      record: () => this.read(shortId) ?? created!,
      update: (patch) => this.update(shortId, patch),
      remove: () => {
        this.withLock(() => removeTreeSync(paths.dir));
        close();
      },
      release: close,
    };
  }

  update(shortId: string, patch: Partial<ContainerRecord>): ContainerRecord {
    return this.withLock(() => {
      const current = this.read(shortId);
      if (!current) throw new TsboxError(`the record of container ${shortId} disappeared`);
      const next = { ...current, ...patch };
      writeAtomic(this.paths(shortId).state, next);
      return next;
    });
  }

  /**
   * docker rename: under the global lock, so two renames (or a rename and a run --name)
   * never give one name to two containers. The name lives only in the record.
   */
  rename(ref: string, newName: string): ContainerRecord {
    return this.withLock(() => {
      const records = this.listRaw();
      const r = resolveRef(ref, records);
      if (r.name === newName) throw new UsageError(`container ${ref} is already named '${newName}'`, { hint: 'Choose a different name.' });
      if (nameTaken(newName, records)) throw new UsageError(`the container name '${newName}' is already in use`, { hint: `Remove that container first (tsbox rm ${newName}), or choose another name.` });
      const next = { ...r, name: newName };
      writeAtomic(this.paths(r.shortId).state, next);
      return next;
    });
  }

  /** The record, validated (container/state-record.ts); null if there is none. A record it cannot read exactly throws. */
  read(shortId: string): ContainerRecord | null {
    let text: string;
    try {
      text = readFileSync(this.paths(shortId).state, 'utf8');
    } catch {
      return null;
    }
    return parseStateRecord(text, this.paths(shortId).state);
  }

  /** For listing: an unreadable record is named on stderr once and skipped, not lost silently. */
  private readListed(shortId: string): ContainerRecord | null {
    try {
      return this.read(shortId);
    } catch (err) {
      const e = err as TsboxError;
      process.stderr.write(`tsbox: warning: ${e.message}. ${e.hint ?? ''}\n`);
      return null;
    }
  }

  /** Every record, with the deaths of killed owners recorded. */
  list(): ContainerRecord[] {
    const records = this.listRaw();
    if (records.every((r) => r.status === 'exited' || this.ownerAlive(r.shortId))) return records;
    return this.withLock(() => this.listRaw().map((r) => this.reconcile(r)));
  }

  /** A record by name, id or unique id prefix. */
  resolve(ref: string): ContainerRecord {
    return resolveRef(ref, this.list());
  }

  /** Delete a record whose container is not running. */
  remove(shortId: string): void {
    this.withLock(() => {
      const r = this.read(shortId);
      if (r && this.reconcile(r).status !== 'exited') throw new UsageError(`container ${r.name ?? r.shortId} is running`, { hint: 'Stop it first, or use rm -f.' });
      removeTreeSync(this.paths(shortId).dir);
    });
  }

  /** Is the process that waits for this container alive (holding owner.lock)? */
  ownerAlive(shortId: string): boolean {
    let fd: number;
    try {
      fd = openSync(this.paths(shortId).ownerLock, 'r');
    } catch {
      return false;
    }
    try {
      if (!tryFlock(fd, false)) return true;
      unflock(fd);
      return false;
    } finally {
      closeSync(fd);
    }
  }

  /** Reclaim records of owners that died: mark kept ones exited, delete ephemeral ones. Returns the ids deleted. */
  reclaim(): string[] {
    const removed: string[] = [];
    this.withLock(() => {
      for (const r of this.listRaw()) {
        if (r.status === 'exited' || this.ownerAlive(r.shortId)) continue;
        if (r.keep) this.reconcile(r);
        else {
          removeTreeSync(this.paths(r.shortId).dir);
          removed.push(r.shortId);
        }
      }
    });
    return removed;
  }

  /** Under the global lock only. */
  private reconcile(r: ContainerRecord): ContainerRecord {
    if (r.status === 'exited' || this.ownerAlive(r.shortId)) return r;
    const next = markOwnerGone(r, new Date());
    writeAtomic(this.paths(r.shortId).state, next);
    return next;
  }

  private listRaw(): ContainerRecord[] {
    let names: string[];
    try {
      names = readdirSync(this.containersDir);
    } catch {
      return [];
    }
    return names.map((n) => this.readListed(n)).filter((r): r is ContainerRecord => r !== null).sort((a, b) => b.created.localeCompare(a.created));
  }
}

export function writeAtomic(path: string, value: unknown): void {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, path);
}

export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
