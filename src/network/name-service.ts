/**
 * Who answers names on a user network. Design: every process that owns a container on a user
 * network (tsbox run in the foreground, the monitor with -d) offers to serve that network's
 * name responder on the gateway. Exactly one bind of gateway:53 succeeds; the others retry
 * every second, so when the serving owner exits, another container's owner takes over within
 * a second, and when the last container goes, nobody serves. No extra daemon, no hand-over
 * protocol: the names themselves live in the lease files, which every responder reads per query.
 */
import type { NetContext } from './context.js';
import { startNameServer, namesFromLeases, type NameServer } from './dns/responder.js';
import type { NetworkDef } from './ipam/store.js';

const RETRY_MS = 1000;

export interface NameService {
  stop(): Promise<void>;
}

export function offerNameService(ctx: NetContext, def: NetworkDef, upstream: string[]): NameService {
  let server: NameServer | null = null;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const tryStart = async (): Promise<void> => {
    if (stopped) return;
    try {
      const s = await startNameServer({ address: def.gateway, domain: `${def.name}.tsbox`, names: () => namesFromLeases(ctx.paths, def.name), upstream });
      if (stopped) await s.close();
      else server = s;
    } catch {
      // EADDRINUSE: another owner serves this network now; take over if it goes.
      if (!stopped) {
        timer = setTimeout(() => void tryStart(), RETRY_MS);
        timer.unref();
      }
    }
  };
  const started = tryStart();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await started;
      await server?.close();
      server = null;
    },
  };
}
