/**
 * The container records on disk, in the container's one directory (runtime/paths.ts):
 *
 *   <root>/lock                           global: creating, naming, updating and removing records
 *   <root>/containers/<short id>/
 *     state.json                          the ContainerRecord, replaced atomically (temp + rename)
 *     lock                                flock held by the process that waits for the container
 *     container.log[.N]                   a detached or named container's output (runtime/log-format.ts)
 *     spec.json                           the RunSpec, for exec and inspect
 *     live/                               what its processes use (runtime/container-dir.ts)
 *
 * Records written by a previous tsbox under /run/tsbox (or <root>/run) are moved here when
 * the store is listed (legacy.ts).
 *
 * Readers need no lock (rename is atomic); every read-modify-write takes the global lock,
 * so concurrent tsbox commands never lose an update or give one name to two containers.
 * A free lock on a record that is not "exited" means its owner died (SIGKILL): the
 * container died with it (PDEATHSIG), and the next reader records that.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { removeTreeSync } from '../../image/remove-tree.js';
import { join } from 'node:path';
import { TsboxError, UsageError } from '../../errors.js';
import { tryFlock } from '../../sys/fd.js';
import { parseStateRecord } from '../../container/state-record.js';
import { CONTAINER_LOCK, LIVE_DIR } from '../paths.js';
import { migrateLegacyRecords } from './legacy.js';
import { lockHeld } from './lock-held.js';
import { markOwnerGone, nameTaken, resolveRef, type ContainerRecord } from './record.js';

/** The records live with the containers, under the root. */
export function stateDirFor(root: string, _defaultRoot?: string): string {
  return root;
}

/** The records of a root, with those a previous tsbox kept elsewhere moved in when listed. */
export function storeOfRoot(root: string, defaultRoot: string): StateStore {
  return new StateStore(stateDirFor(root, defaultRoot), legacyStateDirFor(root, defaultRoot));
}

/** Where the previous tsbox kept its records: /run/tsbox for the default root, <root>/run otherwise. */
export function legacyStateDirFor(root: string, defaultRoot: string): string {
  return root === defaultRoot ? '/run/tsbox' : join(root, 'run');
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
  /** The fd of the container's lock (to hand to a monitor: the flock belongs to the open file). */
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
  /** `legacyDir`: a previous tsbox's state dir, whose records list() and reclaim() move in. */
  constructor(readonly dir: string, private readonly legacyDir: string | null = null) {}

  get containersDir(): string {
    return join(this.dir, 'containers');
  }

  paths(shortId: string): EntryPaths {
    const dir = join(this.containersDir, shortId);
    return {
      dir,
      state: join(dir, 'state.json'),
      ownerLock: join(dir, CONTAINER_LOCK),
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
      // Built under a hidden name and renamed into place with its lock held: gc (which does
      // not take the global lock) must never find the directory with a lock it can take.
      const building = join(this.containersDir, `.new-${record.shortId}`);
      mkdirSync(building, { mode: 0o700 });
      const fd = openSync(join(building, CONTAINER_LOCK), 'wx', 0o600);
      try {
        if (!tryFlock(fd, true)) throw new TsboxError(`cannot lock ${paths.ownerLock}`);
        writeAtomic(join(building, 'state.json'), record);
        renameSync(building, paths.dir);
      } catch (err) {
        closeSync(fd);
        removeTreeSync(building);
        throw err;
      }
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
        this.withLock(() => removeEntry(paths.dir));
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
    this.moveLegacyRecords();
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
      removeEntry(this.paths(shortId).dir);
    });
  }

  /** Is the process that waits for this container alive (holding its lock)? */
  ownerAlive(shortId: string): boolean {
    return lockHeld(this.paths(shortId).ownerLock);
  }

  /**
   * Reclaim records of owners that died: mark kept ones exited, delete ephemeral ones (also
   * one a `ps` already marked exited: an ephemeral run that ends removes its own record, so
   * an ephemeral record with a free lock is always a dead run's). Returns the ids deleted.
   */
  reclaim(): string[] {
    this.moveLegacyRecords();
    const removed: string[] = [];
    this.withLock(() => {
      for (const r of this.listRaw()) {
        if ((r.status === 'exited' && r.keep) || this.ownerAlive(r.shortId)) continue;
        // What it held is not released yet (gc.ts failed to, this time): keep the directory.
        if (existsSync(join(this.paths(r.shortId).dir, LIVE_DIR))) continue;
        if (r.keep) this.reconcile(r);
        else {
          removeEntry(this.paths(r.shortId).dir);
          removed.push(r.shortId);
        }
      }
    });
    return removed;
  }

  /** A previous tsbox's records, moved into this store (legacy.ts); one stat when there are none. */
  private moveLegacyRecords(): void {
    if (this.legacyDir === null || !existsSync(join(this.legacyDir, 'containers'))) return;
    this.withLock(() => migrateLegacyRecords(join(this.legacyDir!, 'containers'), this.containersDir, (line) => process.stderr.write(`tsbox: warning: ${line}\n`)));
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
    // .new-<id>: a record being created (create() renames it into place).
    return names.filter((n) => !n.startsWith('.')).map((n) => this.readListed(n)).filter((r): r is ContainerRecord => r !== null).sort((a, b) => b.created.localeCompare(a.created));
  }
}

/**
 * A container's directory, unless what its processes held is not released yet (its holder
 * was killed, or a release failed): then live/ and the lock stay, without a record, for gc
 * (runtime/gc.ts) to release by kind and remove the rest.
 */
function removeEntry(dir: string): void {
  if (!existsSync(join(dir, LIVE_DIR))) return removeTreeSync(dir);
  for (const name of readdirSync(dir)) if (name !== LIVE_DIR && name !== CONTAINER_LOCK) removeTreeSync(join(dir, name));
}

export function writeAtomic(path: string, value: unknown): void {
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, path);
}

export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
