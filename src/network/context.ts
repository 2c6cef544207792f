/** Where host-wide network state lives and how changes are traced: passed in, never global. */
import type { NetPaths } from './ipam/store.js';
import { DEFAULT_PATHS } from './ipam/store.js';
import { nftRunner, type NftRunner, type NftTrace } from './nft/apply.js';
import { DEFAULT_TABLE } from './nft/ruleset.js';
import type { NetworkTrace } from './trace.js';

export interface NetContext {
  paths: NetPaths;
  table: string;
  nft: NftRunner;
  trace?: NetworkTrace;
}

export function netContext(opts: { paths?: NetPaths; table?: string; trace?: NetworkTrace; nft?: 'auto' | 'nft' } = {}): NetContext {
  const nftTrace: NftTrace | undefined = opts.trace ? (e) => opts.trace!({ kind: 'nft', what: e.text.trim(), result: e.ok ? 0 : -1, detail: e.error.trim() || e.via }) : undefined;
  return {
    paths: opts.paths ?? DEFAULT_PATHS,
    table: opts.table ?? DEFAULT_TABLE,
    nft: nftRunner(nftTrace, opts.nft ?? 'auto'),
    ...(opts.trace ? { trace: opts.trace } : {}),
  };
}
