/** What the container commands share: the state store of --root, and parsing of signals. */
import { constants } from 'node:os';
import { UsageError } from '../errors.js';
import { storeOfRoot, type StateStore } from '../runtime/state/store.js';
import { DEFAULT_ROOT, resolveRoot } from '../spec/run-spec.js';

export function storeFor(root: string | undefined): StateStore {
  return storeOfRoot(resolveRoot(root), DEFAULT_ROOT);
}

/** "KILL", "SIGKILL", "kill" or "9" -> the signal. */
export function parseSignal(text: string): NodeJS.Signals | number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n >= 1 && n <= 64) return n;
  } else {
    const name = (text.toUpperCase().startsWith('SIG') ? text.toUpperCase() : `SIG${text.toUpperCase()}`) as NodeJS.Signals;
    if (name in constants.signals) return name;
  }
  throw new UsageError(`invalid signal '${text}'`, { hint: 'Use a name like TERM or SIGKILL, or a number.' });
}

export function parseNonNegativeInt(text: string, flag: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`invalid ${flag} '${text}': expected a whole number`);
  return Number(text);
}
