/**
 * Applies nft text: libnftables in-process when it is installed, else the `nft` command with
 * the text on stdin (not `-j -f -`: from Node, stdin is a socketpair and nft cannot reopen
 * /dev/stdin for JSON). Every change goes through the trace hook for --debug.
 */
import { spawnSync } from 'node:child_process';
import { TsboxError } from '../../errors.js';
import { libnftablesAvailable, nftRun, type NftResult } from '../../sys/nftables.js';

export type NftTrace = (event: { text: string; ok: boolean; via: 'libnftables' | 'nft'; error: string }) => void;

export interface NftRunner {
  run(text: string): NftResult;
}

const NO_NFT_HINT = 'Install nftables (Debian: libnftables1 or nftables), or use --network none.';

function viaCommand(text: string): NftResult {
  const r = spawnSync('nft', ['-f', '-'], { input: text, encoding: 'utf8' });
  if (r.error) {
    throw new TsboxError('bridge networking needs nftables: neither libnftables.so.1 nor the nft command is installed', { step: 'network', hint: NO_NFT_HINT });
  }
  return { ok: r.status === 0, output: r.stdout, error: r.stderr };
}

export function nftRunner(trace?: NftTrace, prefer: 'auto' | 'nft' = 'auto'): NftRunner {
  // Loaded on the first change (about 1 ms): a container on an existing bridge without
  // published ports changes nothing in the firewall and never loads it.
  let useLib: boolean | undefined;
  return {
    run(text) {
      useLib ??= prefer === 'auto' && libnftablesAvailable();
      const r = useLib ? nftRun(text) : viaCommand(text);
      trace?.({ text, ok: r.ok, via: useLib ? 'libnftables' : 'nft', error: r.error });
      return r;
    },
  };
}

/** nft's error output names the line and marks the place with carets: keep the first line that says why. */
export function nftErrorLine(error: string): string {
  const line = error.split('\n').find((l) => /Error:/.test(l)) ?? error.split('\n')[0] ?? '';
  return line.replace(/^.*?Error:\s*/, '').trim();
}

export function applyNft(runner: NftRunner, text: string, what: string): void {
  const r = runner.run(text);
  if (r.ok) return;
  const line = nftErrorLine(r.error) || 'failed';
  // A kernel without nf_tables (or its NAT/fib parts) answers "Operation not supported" or
  // "No such file or directory" for a whole table: that host cannot do bridge networking.
  const unsupported = /Operation not supported|Protocol not supported|No such file or directory.*table/i.test(line);
  throw new TsboxError(`${what}: nft: ${line}`, { step: 'network', ...(unsupported ? { hint: 'This kernel lacks nf_tables support for NAT; use --network none.' } : {}) });
}
