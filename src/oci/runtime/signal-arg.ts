/** kill's SIGNAL argument: a number ("9"), a name ("KILL", "SIGKILL", "sigkill"). Pure. */
import { constants } from 'node:os';
import { UsageError } from '../../errors.js';

export function parseSignal(arg: string | undefined): number {
  if (arg === undefined) return constants.signals.SIGTERM;
  if (/^\d+$/.test(arg)) {
    const n = Number(arg);
    if (n >= 1 && n <= 64) return n;
  } else {
    const upper = arg.toUpperCase();
    const name = (upper.startsWith('SIG') ? upper : `SIG${upper}`) as keyof typeof constants.signals;
    const n = constants.signals[name];
    if (n !== undefined) return n;
  }
  throw new UsageError(`invalid signal '${arg}'`, { step: 'kill', hint: 'Give a number (15) or a name (TERM, SIGKILL).' });
}
