/**
 * A conversation with one registry about one repository: the endpoint and scheme
 * (https; plain http only for an insecure registry that does not speak TLS), the
 * authentication (anonymous, basic, or bearer tokens obtained from the challenge's realm),
 * and the two requests a pull needs: manifests and blobs. Credentials go to the
 * registry's own origin and to the token realm, never to a redirect target elsewhere.
 */
import type { IncomingMessage } from 'node:http';
import type { Credentials } from './credentials.js';
import { RegistryError } from './errors.js';
import { makeTransport, readBounded, send, type Transport } from './http.js';
import { isInsecure, isLoopback, loadTlsMaterial, type TlsSettings } from './tls-policy.js';
import type { PullTrace } from './trace.js';
import { parseWwwAuthenticate, type Challenge } from './www-authenticate.js';

const MAX_TOKEN_BYTES = 1 << 20;
const MAX_ERROR_BYTES = 64 << 10;

export interface SessionOptions extends TlsSettings {
  credentials?: Credentials | undefined;
  signal?: AbortSignal;
  /** --debug/--explain: each exchange, named (registry/trace.ts). */
  trace?: PullTrace | undefined;
}

/**
 * The host to talk to for a reference's domain: the domain itself. docker maps its default
 * domain to another API host; tsbox names no registry host of its own, so a reference to the
 * default domain is fetched from that domain as written (name the API host in the reference
 * to reach it another way).
 */
export function endpointHost(domain: string): string {
  return domain;
}

export class RegistrySession {
  readonly domain: string;
  readonly repository: string;
  private readonly opts: SessionOptions;
  private readonly insecure: boolean;
  private transport: Transport | undefined;
  private base: URL | undefined;
  private challenge: Challenge | undefined;
  private authorization: string | undefined;

  constructor(domain: string, repository: string, opts: SessionOptions = {}) {
    this.domain = domain;
    this.repository = repository;
    this.opts = opts;
    this.insecure = isInsecure(domain, opts);
  }

  get trace(): PullTrace | undefined {
    return this.opts.trace;
  }

  close(): void {
    this.transport?.close();
    this.transport = undefined;
  }

  /** GET /v2/: learn the scheme and the auth challenge. */
  private async connect(): Promise<void> {
    if (this.base) return;
    const host = endpointHost(this.domain);
    const tls = loadTlsMaterial(this.domain, this.opts);
    const httpsBase = new URL(`https://${host}/v2/`);
    this.transport = makeTransport(httpsBase.origin, tls, this.insecure, () => tls.ca);
    let res: IncomingMessage;
    try {
      res = (await send(this.transport, { method: 'GET', url: httpsBase, signal: this.opts.signal })).res;
      this.base = httpsBase;
    } catch (err) {
      if (this.opts.signal?.aborted || !this.insecure) throw this.connectError(err, httpsBase);
      // An insecure registry may speak plain http only (docker's fallback).
      const httpBase = new URL(`http://${host}/v2/`);
      this.transport.registryOrigin = httpBase.origin;
      try {
        res = (await send(this.transport, { method: 'GET', url: httpBase, signal: this.opts.signal })).res;
      } catch (err2) {
        throw this.connectError(err2, httpBase);
      }
      this.base = httpBase;
    }
    res.resume();
    if (res.statusCode === 401) this.challenge = this.pickChallenge(res);
    else if (res.statusCode !== 200) throw new RegistryError(`${this.domain}: GET /v2/ answered ${res.statusCode}`, { hint: 'Is this a registry speaking the OCI distribution API (Docker Registry v2)?' });
    this.opts.trace?.('contact registry', `GET ${this.base.href} = ${res.statusCode} over ${this.base.protocol === 'https:' ? 'HTTPS' : 'plain HTTP'}: ${this.challenge ? `${this.challenge.scheme} authentication asked${this.challenge.params.realm ? ` (token realm ${this.challenge.params.realm})` : ''}` : 'open, no authentication asked'}`);
  }

  private connectError(err: unknown, url: URL): unknown {
    if (err instanceof RegistryError || (err as Error).name === 'AbortError') return err;
    const e = err as NodeJS.ErrnoException;
    const tlsHint = this.insecure ? '' : isLoopback(this.domain) ? '' : ` For a registry without valid TLS use --tls-verify=false (only if you trust the network).`;
    const isTls = /certificate|self.signed|SSL|TLS|EPROTO/i.test(`${e.code} ${e.message}`);
    const what = e.code && !e.message.includes(e.code) ? `${e.code} ${e.message}` : e.message;
    return new RegistryError(`cannot reach ${url.origin}: ${what}`.replace(/\s+/g, ' '), {
      hint: isTls ? `TLS failed: add the registry's CA (NODE_EXTRA_CA_CERTS, --cert-dir, /etc/containers/certs.d/${this.domain}/).${tlsHint}` : 'Check the host name, port and network.',
      cause: err,
    });
  }

  private pickChallenge(res: IncomingMessage): Challenge | undefined {
    const all = parseWwwAuthenticate(res.headers['www-authenticate']);
    return all.find((c) => c.scheme === 'bearer') ?? all.find((c) => c.scheme === 'basic');
  }

  private get scope(): string {
    return `repository:${this.repository}:pull`;
  }

  /** Credentials (or a token) for the challenge; undefined when anonymous access is all there is. */
  private async authenticate(challenge: Challenge): Promise<void> {
    const creds = this.opts.credentials;
    if (challenge.scheme === 'basic') {
      if (!creds) throw this.unauthorized();
      this.authorization = basic(creds);
      this.opts.trace?.('get token', `basic authentication: the stored credentials for ${this.domain} go with every request`);
      return;
    }
    const realm = challenge.params.realm;
    if (!realm) throw new RegistryError(`${this.domain}: bearer challenge without a realm`);
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new RegistryError(`${this.domain}: invalid token realm '${realm.slice(0, 100)}'`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new RegistryError(`${this.domain}: token realm with scheme ${url.protocol}`);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    const scope = challenge.params.scope ?? this.scope;
    if (scope !== '') url.searchParams.set('scope', scope);
    // Credentials travel to the realm only encrypted, unless the realm is itself an insecure (loopback) host.
    const sendCreds = creds !== undefined && (url.protocol === 'https:' || isInsecure(url.host, { insecureRegistries: [this.domain] }));
    const { res } = await send(this.transport!, { method: 'GET', url, authFor: (u) => (sendCreds && u.origin === url.origin ? basic(creds!) : undefined), signal: this.opts.signal });
    this.opts.trace?.('get token', `GET ${url.href} = ${res.statusCode}: a bearer token for scope ${scope || '(none)'}, asked ${sendCreds ? 'with the stored credentials' : 'anonymously'}`);
    if (res.statusCode === 401 || res.statusCode === 403) {
      res.resume();
      throw this.unauthorized();
    }
    if (res.statusCode !== 200) {
      res.resume();
      throw new RegistryError(`${this.domain}: the token server ${url.host} answered ${res.statusCode}`);
    }
    const body = await readBounded(res, MAX_TOKEN_BYTES, 'token response');
    let token: unknown;
    try {
      const json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      token = json.token ?? json.access_token;
    } catch {
      throw new RegistryError(`${this.domain}: the token server sent invalid JSON`);
    }
    if (typeof token !== 'string' || token === '' || /[\r\n]/.test(token)) throw new RegistryError(`${this.domain}: the token server sent no token`);
    this.authorization = `Bearer ${token}`;
  }

  private unauthorized(): RegistryError {
    return new RegistryError(`${this.domain}/${this.repository}: authentication required or access denied`, {
      hint: this.opts.credentials ? `Check the credentials stored for ${this.domain} ('tsbox login ${this.domain}') and the repository name.` : `Run 'tsbox login ${this.domain}' first, or check the repository name.`,
    });
  }

  /**
   * `tsbox login`: prove the credentials work before they are stored, as docker does: GET /v2/
   * with basic auth, or with a token the realm issued for them (no repository scope).
   */
  async verifyLogin(): Promise<void> {
    await this.connect();
    const challenge = this.challenge;
    if (!challenge) return; // an open registry: nothing to check
    if (challenge.scheme === 'bearer') await this.authenticate({ scheme: 'bearer', params: { ...challenge.params, scope: '' } });
    else await this.authenticate(challenge);
    const { res } = await send(this.transport!, { method: 'GET', url: this.base!, authFor: (u) => (u.origin === this.base!.origin ? this.authorization : undefined), signal: this.opts.signal });
    res.resume();
    if (res.statusCode === 401 || res.statusCode === 403) throw this.unauthorized();
    if (res.statusCode !== 200) throw new RegistryError(`${this.domain}: GET /v2/ answered ${res.statusCode}`);
  }

  /** A request to the registry, authenticated (once more after a fresh 401). */
  async request(method: 'GET' | 'HEAD', path: string, headers: Record<string, string> = {}): Promise<IncomingMessage> {
    await this.connect();
    // The ping's challenge says auth is needed: get it before the first request rather than after a 401.
    if (this.challenge && this.authorization === undefined) await this.authenticate(this.challenge);
    const url = new URL(path, this.base);
    const origin = this.base!.origin;
    for (let attempt = 0; ; attempt++) {
      const { res } = await send(this.transport!, { method, url, headers, authFor: (u) => (u.origin === origin ? this.authorization : undefined), signal: this.opts.signal });
      if (res.statusCode !== 401) return res;
      res.resume();
      const challenge = this.pickChallenge(res);
      if (attempt > 0 || !challenge) throw this.unauthorized();
      this.challenge = challenge;
      await this.authenticate(challenge);
    }
  }

  /** Turn a non-success answer into one line, with the registry's own error code when it sent one. */
  async failure(res: IncomingMessage, what: string): Promise<RegistryError> {
    let detail = '';
    try {
      const body = await readBounded(res, MAX_ERROR_BYTES, 'error body');
      const json = JSON.parse(body.toString('utf8')) as { errors?: { code?: string; message?: string }[] };
      const e = json.errors?.[0];
      if (e) detail = `: ${String(e.code ?? '').slice(0, 64)} ${String(e.message ?? '').slice(0, 200)}`.trimEnd();
    } catch {
      res.resume();
    }
    const status = res.statusCode ?? 0;
    const hint = status === 404 ? 'Check the name, tag or digest.' : status === 403 ? `Check your access to ${this.repository} ('tsbox login ${this.domain}').` : status === 429 ? 'The registry limits requests: wait and pull again.' : undefined;
    return new RegistryError(`${what}: ${this.domain} answered ${status}${detail}`.replace(/[\r\n]+/g, ' '), { hint });
  }
}

function basic(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}
