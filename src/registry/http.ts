/**
 * One HTTP exchange over Node's http/https, following redirects by hand so that the
 * Authorization header goes only where the caller allows (authFor): a blob redirect to a
 * storage host on another origin gets no credentials, and https never downgrades to http
 * unless the registry is insecure.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { RegistryError } from './errors.js';
import type { TlsMaterial } from './tls-policy.js';

const MAX_REDIRECTS = 5;
/** No byte for this long: the connection is dead (a slow but live transfer is never cut). */
const IDLE_TIMEOUT_MS = 60_000;
export const USER_AGENT = 'tsbox/0.1';

export interface Exchange {
  res: IncomingMessage;
  /** The URL that answered (after redirects). */
  url: URL;
}

export interface Transport {
  /** For the registry's own origin: its TLS material, verification off when insecure. */
  registryAgent: HttpsAgent;
  /** For every other origin (token realms, blob storage): always verified; made on first use. */
  otherAgent(): HttpsAgent;
  plainAgent: HttpAgent;
  registryOrigin: string;
  allowPlainHttp: boolean;
  close(): void;
}

/**
 * `verifiedCa` is called only when a verified connection is made: an insecure loopback
 * registry never pays for parsing the CA bundles (tens of milliseconds).
 */
export function makeTransport(registryOrigin: string, tls: TlsMaterial, insecure: boolean, verifiedCa: () => string[]): Transport {
  const common = { keepAlive: true, maxSockets: 8 };
  let other: HttpsAgent | undefined;
  const registryAgent = new HttpsAgent({ ...common, ca: insecure ? undefined : verifiedCa(), cert: tls.cert, key: tls.key, rejectUnauthorized: !insecure });
  const plainAgent = new HttpAgent(common);
  return {
    registryAgent,
    otherAgent: () => (other ??= new HttpsAgent({ ...common, ca: verifiedCa() })),
    plainAgent,
    registryOrigin,
    allowPlainHttp: insecure,
    close: () => {
      registryAgent.destroy();
      plainAgent.destroy();
      other?.destroy();
    },
  };
}

export interface SendOptions {
  method: 'GET' | 'HEAD';
  url: URL;
  headers?: Record<string, string>;
  /** The Authorization value for a URL, or undefined to send none. */
  authFor?: (url: URL) => string | undefined;
  signal?: AbortSignal;
}

function once(t: Transport, method: string, url: URL, headers: Record<string, string>, signal: AbortSignal | undefined): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const isHttps = url.protocol === 'https:';
    const agent = isHttps ? (url.origin === t.registryOrigin ? t.registryAgent : t.otherAgent()) : t.plainAgent;
    // autoSelectFamily: "localhost" may resolve to ::1 first while the registry listens on 127.0.0.1 only.
    const req = (isHttps ? httpsRequest : httpRequest)(url, { method, headers: { 'User-Agent': USER_AGENT, ...headers }, agent, signal, autoSelectFamily: true } as Parameters<typeof httpRequest>[1]);
    req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(new RegistryError(`${url.host}: no data for ${IDLE_TIMEOUT_MS / 1000} s`, { hint: 'The registry stopped answering; run the pull again to resume.' })));
    req.on('response', resolve);
    req.on('error', reject);
    req.end();
  });
}

export async function send(t: Transport, o: SendOptions): Promise<Exchange> {
  let url = o.url;
  for (let hop = 0; ; hop++) {
    const headers = { ...(o.headers ?? {}) };
    const auth = o.authFor?.(url);
    if (auth !== undefined) headers.Authorization = auth;
    const res = await once(t, o.method, url, headers, o.signal);
    const status = res.statusCode ?? 0;
    if (![301, 302, 303, 307, 308].includes(status)) return { res, url };
    res.resume();
    const location = res.headers.location;
    if (!location) throw new RegistryError(`${url.host}: redirect ${status} without a Location`);
    if (hop >= MAX_REDIRECTS) throw new RegistryError(`${o.url.host}: more than ${MAX_REDIRECTS} redirects`);
    const next = new URL(location, url);
    if (next.protocol !== 'https:' && next.protocol !== 'http:') throw new RegistryError(`${url.host}: redirect to unsupported scheme ${next.protocol}`);
    if (url.protocol === 'https:' && next.protocol === 'http:' && !t.allowPlainHttp) throw new RegistryError(`${url.host}: refused a redirect from https to plain http (${next.host})`);
    url = next;
  }
}

/** Read a whole body, refusing more than `max` bytes (announced or sent): every JSON document is bounded. */
export function readBounded(res: IncomingMessage, max: number, what: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const announced = Number(res.headers['content-length'] ?? '0');
    if (announced > max) {
      res.destroy();
      reject(new RegistryError(`${what} is ${announced} bytes, more than the ${max} allowed`, { hint: 'The registry sent a document too large to be a manifest or config.' }));
      return;
    }
    const chunks: Buffer[] = [];
    let total = 0;
    res.on('data', (c: Buffer) => {
      total += c.length;
      if (total > max) {
        res.destroy();
        reject(new RegistryError(`${what} is more than the ${max} bytes allowed`, { hint: 'The registry sent a document too large to be a manifest or config.' }));
        return;
      }
      chunks.push(c);
    });
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', reject);
    res.on('aborted', () => reject(new RegistryError(`${what}: connection closed early`)));
  });
}
