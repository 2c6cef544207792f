/**
 * Records written by the previous tsbox, which kept them apart from the containers'
 * directories (/run/tsbox/containers/<id> for the default root, <root>/run/containers/<id>
 * otherwise), each with its own owner.lock. They are moved into the container's one directory
 * (<root>/containers/<id>: state.json, spec.json, logs, a new lock), so that a stopped named
 * container of the previous version is listed, inspected, started and removed as before.
 *
 * Nothing is lost silently. A record is left where it is, and named in one warning line, when
 *  - its previous holder still runs (its owner.lock is held): it is moved once that ends;
 *  - it cannot be read exactly (another version, damaged): container/state-record.ts says why;
 *  - the previous version's run directory of the same container is still there: gc releases
 *    what it holds first (runtime/gc.ts), then the record moves.
 * Called under the store's global lock.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseStateRecord } from '../../container/state-record.js';
import { removeTreeSync } from '../../image/remove-tree.js';
import { CONTAINER_LOCK } from '../paths.js';
import { lockHeld } from './lock-held.js';

/** The previous version's files that have no meaning once moved: its lock and its start socket. */
const LEFT_BEHIND = new Set(['owner.lock', 'start.sock']);

export function migrateLegacyRecords(legacyContainers: string, containers: string, warn: (line: string) => void): void {
  let names: string[];
  try {
    names = readdirSync(legacyContainers);
  } catch {
    return;
  }
  mkdirSync(containers, { recursive: true, mode: 0o700 });
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const from = join(legacyContainers, name);
    if (lockHeld(join(from, 'owner.lock'))) {
      warn(`container ${name} is run by a previous tsbox (its record is ${from}); it is listed once that run ends`);
      continue;
    }
    let text: string;
    try {
      text = readFileSync(join(from, 'state.json'), 'utf8');
    } catch {
      continue; // no record: nothing to move (the previous version removed it, or never wrote one)
    }
    try {
      parseStateRecord(text, join(from, 'state.json'));
    } catch (err) {
      warn(`${(err as Error).message}. It is left where it is; remove it with the tsbox that wrote it.`);
      continue;
    }
    const to = join(containers, name);
    if (existsSync(to)) {
      warn(`the record of container ${name} (${from}) waits until what its previous run left in ${to} is released: run tsbox gc`);
      continue;
    }
    moveInto(from, to, join(containers, `.migrate-${name}`));
  }
  // Empty once every record moved: the next command pays one failed stat, nothing more.
  try {
    rmdirSync(legacyContainers);
  } catch {
    // records left (named above) stay
  }
}

/** Copied (the previous dir may be on another filesystem, /run), renamed into place whole, then removed. */
function moveInto(from: string, to: string, building: string): void {
  removeTreeSync(building);
  mkdirSync(building, { mode: 0o700 });
  for (const file of readdirSync(from)) {
    if (LEFT_BEHIND.has(file) || file.endsWith('.tmp') || !statSync(join(from, file)).isFile()) continue;
    copyFileSync(join(from, file), join(building, file));
  }
  writeFileSync(join(building, CONTAINER_LOCK), '', { mode: 0o600 });
  renameSync(building, to);
  removeTreeSync(from);
}
