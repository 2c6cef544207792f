/**
 * tsbox-runtime's state root (default /run/tsbox-runtime; podman's `state ID` passes no
 * --root): one directory per container id holding state.json and, while the container is
 * created and not yet started, exec.fifo (init/hold-fifo.ts). The record is checked when
 * read back (record.ts): a damaged file is an error naming it, never a half-read container.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TsboxError, UsageError } from '../../errors.js';
import { parseRecord, type ContainerRecord } from './record.js';

export const DEFAULT_STATE_ROOT = '/run/tsbox-runtime';

/** runc's rule for ids: they name a directory and a cgroup. */
const ID = /^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$/;

export type { ContainerRecord } from './record.js';

export function checkId(id: string): void {
  if (!ID.test(id)) throw new UsageError(`invalid container id '${id}'`, { hint: 'Ids are letters, digits and _.+- (at most 128).' });
}

export class StateRoot {
  constructor(readonly root: string) {}

  dir(id: string): string {
    checkId(id);
    return join(this.root, id);
  }

  fifo(id: string): string {
    return join(this.dir(id), 'exec.fifo');
  }

  /** Claim the id: its directory made exclusively (an existing one is another container's). */
  claim(id: string): string {
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    const dir = this.dir(id);
    try {
      mkdirSync(dir, { mode: 0o711 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError(`container with id ${id} already exists`, { step: 'create', hint: 'Delete it first, or choose another id.' });
      throw err;
    }
    return dir;
  }

  write(record: ContainerRecord): void {
    const file = join(this.dir(record.id), 'state.json');
    writeFileSync(`${file}.tmp`, JSON.stringify(record));
    renameSync(`${file}.tmp`, file);
  }

  /** The record, or the error containerd and podman take for "not found". */
  read(id: string): ContainerRecord {
    const dir = this.dir(id);
    let text: string;
    try {
      text = readFileSync(join(dir, 'state.json'), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new TsboxError(`container ${id} does not exist`, { step: 'state', hint: 'See tsbox-runtime list.' });
      throw err;
    }
    const parsed = parseRecord(safeJson(text));
    if (parsed === null) throw new TsboxError(`the state of container ${id} is damaged (${join(dir, 'state.json')})`, { step: 'state', hint: 'delete --force removes it.' });
    return parsed;
  }

  exists(id: string): boolean {
    return existsSync(join(this.dir(id), 'state.json'));
  }

  list(): string[] {
    try {
      return readdirSync(this.root).filter((n) => ID.test(n)).sort();
    } catch {
      return [];
    }
  }

  remove(id: string): void {
    rmSync(this.dir(id), { recursive: true, force: true });
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
