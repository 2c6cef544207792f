/**
 * What an attachment holds, as small JSON records the container model keeps in its resource
 * record. Each record carries everything its release needs (paths, table name), so a later
 * command can release it after the attaching process died, and releasing twice is harmless.
 */
import type { PortElement } from './nft/ruleset.js';

export type NetworkResource =
  | { kind: 'bridge-user'; network: string; bridge: string; subnet: string; leases: string; table: string }
  | { kind: 'lease'; network: string; ip: string; containerId: string; leases: string }
  | { kind: 'veth'; hostName: string }
  | { kind: 'portmap'; table: string; ports: PortElement[] };
