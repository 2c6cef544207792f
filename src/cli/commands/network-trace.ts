/**
 * --debug and --explain for `tsbox network create` and `rm`: each netlink message and nft
 * change is logged under the step it belongs to (the names below; explain/network-steps.ts
 * has a text for each). Without either flag there is no trace and no logger work.
 */
import { createLogger, type Logger } from '../../log.js';
import type { NetworkTrace } from '../../network/trace.js';
import type { CommonOptions } from '../options.js';

export const NETWORK_STEPS = {
  routes: 'read host routes',
  define: 'define network',
  bridge: 'delete bridge',
  firewall: 'remove firewall entries',
  forget: 'remove network definition',
} as const;
export type NetworkStep = (typeof NETWORK_STEPS)[keyof typeof NETWORK_STEPS];

export interface ExplainFlags {
  explain?: 'text' | 'json';
  'explain=json'?: 'json';
}

export interface NetworkDebug {
  log: Logger;
  /** The trace for netContext, or undefined when nothing is logged at debug. */
  trace: NetworkTrace | undefined;
  /** The step the next traced messages belong to; a function picks it per message (rm: by kind). */
  enter(step: NetworkStep | ((kind: 'netlink' | 'nft') => NetworkStep)): void;
}

export async function networkDebug(flags: CommonOptions & ExplainFlags): Promise<NetworkDebug> {
  const log = createLogger(flags.debug ? 'debug' : flags.logLevel, flags.logFormat, {}, flags['explain=json'] ?? flags.explain);
  if (!log.enabled('debug')) return { log, trace: undefined, enter: () => {} };
  const { describeTrace } = await import('../../network/trace.js');
  let current: NetworkStep | ((kind: 'netlink' | 'nft') => NetworkStep) = NETWORK_STEPS.routes;
  return {
    log,
    trace: (e) => log.debug({ step: typeof current === 'function' ? current(e.kind) : current }, describeTrace(e)),
    enter: (step) => {
      current = step;
    },
  };
}
