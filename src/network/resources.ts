/**
 * What an attachment holds, as small JSON records the container model keeps in its resource
 * record. Each record carries everything its release needs (paths, table name), so a later
 * command can release it after the attaching process died, and releasing twice is harmless.
 * Records read back from disk are checked with `networkResourceSchema` before use.
 */
import { z } from 'zod';

const port = z.object({
  proto: z.enum(['tcp', 'udp']),
  hostIp: z.string().optional(),
  hostPort: z.number().int().min(1).max(65535),
  containerIp: z.string(),
  containerPort: z.number().int().min(1).max(65535),
});

const ifname = z.string().regex(/^[A-Za-z0-9_.-]{1,15}$/);
const table = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,31}$/);
const absolute = z.string().startsWith('/');

export const networkResourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('bridge-user'), network: z.string(), bridge: ifname, subnet: z.string(), leases: absolute, table }),
  z.object({ kind: z.literal('lease'), network: z.string(), ip: z.string(), containerId: z.string(), leases: absolute }),
  /**
   * `holder`: the process whose namespace holds the peer (the container's init). Once it is
   * gone, the kernel removes the veth with the namespace, so a release leaves it alone instead
   * of a synchronous delete (17-25 ms: an RCU grace period) that races the kernel's.
   */
  z.object({ kind: z.literal('veth'), hostName: ifname, holder: z.object({ pid: z.number().int(), startTime: z.string() }).optional() }),
  z.object({ kind: z.literal('portmap'), table, ports: z.array(port) }),
]);

export type NetworkResource = z.infer<typeof networkResourceSchema>;
