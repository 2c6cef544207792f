/**
 * Is a host port free? A published port is a DNAT rule, not a socket, so nothing else would
 * notice a clash: a host server on the same port would silently stop receiving. Binding a
 * socket for a moment is the same check docker-proxy's bind makes. Also picks a free port
 * for `-p CONTAINERPORT` (the kernel's ephemeral choice).
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

/** The port it got (the kernel's choice for 0), or why not: in use, or not an address of this host. */
export type Probe = number | 'in-use' | 'not-local';

const why = (err: NodeJS.ErrnoException): Probe => (err.code === 'EADDRNOTAVAIL' ? 'not-local' : 'in-use');

export async function probePort(proto: 'tcp' | 'udp', port: number, hostIp?: string): Promise<Probe> {
  const host = hostIp ?? '0.0.0.0';
  return new Promise((resolve) => {
    if (proto === 'tcp') {
      const s = createServer();
      s.once('error', (err) => resolve(why(err)));
      s.listen({ port, host, exclusive: true }, () => {
        const got = (s.address() as { port: number }).port;
        s.close(() => resolve(got));
      });
    } else {
      const s = createSocket('udp4');
      s.once('error', (err) => { s.close(); resolve(why(err)); });
      s.bind({ port, address: host, exclusive: true }, () => {
        const got = s.address().port;
        s.close(() => resolve(got));
      });
    }
  });
}
