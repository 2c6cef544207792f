/**
 * `-p` in docker's syntax, pure: [IP:][HOSTPORT[-END]:]CONTAINERPORT[-END][/tcp|udp].
 * HOSTPORT empty or absent means "a free host port, chosen at attach time".
 */
import { UsageError } from '../errors.js';
import { ipToNum } from './ipam/subnet.js';

export interface PortSpec {
  proto: 'tcp' | 'udp';
  hostIp?: string;
  /** 0 = pick a free port. */
  hostPort: number;
  containerPort: number;
}

const bad = (text: string, why: string) =>
  new UsageError(`invalid -p "${text}": ${why}`, { step: 'publish', hint: 'Use [IP:]HOSTPORT:CONTAINERPORT[/tcp|udp], e.g. -p 8080:80 or -p 127.0.0.1:8080:80/tcp.' });

function range(text: string, part: string): [number, number] {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(part);
  if (!m) throw bad(text, `"${part}" is not a port or a port range`);
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (lo < 1 || hi > 65535 || hi < lo) throw bad(text, `port range ${part} is outside 1-65535 or reversed`);
  return [lo, hi];
}

export function parsePublish(text: string): PortSpec[] {
  let rest = text;
  let proto: 'tcp' | 'udp' = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash !== -1) {
    const p = rest.slice(slash + 1);
    if (p !== 'tcp' && p !== 'udp') throw bad(text, `protocol "${p}" is not tcp or udp`);
    proto = p;
    rest = rest.slice(0, slash);
  }
  const parts = rest.split(':');
  if (parts.length > 3) throw bad(text, 'too many ":" (IPv6 host addresses are not supported yet)');
  const [ipPart, hostPart, cPart] = parts.length === 3 ? parts : parts.length === 2 ? [undefined, parts[0], parts[1]] : [undefined, '', parts[0]];
  if (ipPart !== undefined && ipPart !== '' && ipToNum(ipPart) === null) throw bad(text, `"${ipPart}" is not an IPv4 address`);
  const [clo, chi] = range(text, cPart ?? '');
  const hostIp = ipPart && ipPart !== '0.0.0.0' ? ipPart : undefined;
  const out: PortSpec[] = [];
  if (!hostPart) {
    for (let c = clo; c <= chi; c++) out.push({ proto, ...(hostIp ? { hostIp } : {}), hostPort: 0, containerPort: c });
    return out;
  }
  const [hlo, hhi] = range(text, hostPart);
  if (hhi - hlo !== chi - clo) throw bad(text, `host range ${hostPart} and container range ${cPart} differ in length`);
  for (let i = 0; i <= chi - clo; i++) out.push({ proto, ...(hostIp ? { hostIp } : {}), hostPort: hlo + i, containerPort: clo + i });
  return out;
}

/** Two -p asking for the same host port (same proto and address) is an error before anything is made. */
export function checkDuplicates(ports: PortSpec[]): void {
  const seen = new Set<string>();
  for (const p of ports) {
    if (p.hostPort === 0) continue;
    const key = `${p.proto}/${p.hostIp ?? '*'}:${p.hostPort}`;
    const anyKey = `${p.proto}/*:${p.hostPort}`;
    if (seen.has(key) || seen.has(anyKey) || (p.hostIp === undefined && [...seen].some((k) => k.startsWith(`${p.proto}/`) && k.endsWith(`:${p.hostPort}`)))) {
      throw new UsageError(`host port ${p.hostPort}/${p.proto} is published twice`, { step: 'publish', hint: 'Give each -p its own host port.' });
    }
    seen.add(key);
  }
}
