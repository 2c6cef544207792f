/**
 * Authenticated pulls from a local docker-registry: htpasswd (basic) auth with `tsbox login`
 * / `logout` and docker's config.json; token auth with a token server written here (the
 * registry verifies its ES256 JWTs against a test CA); and a blob redirect to another origin
 * that must receive no credentials. TLS with a test CA: refused unverified, accepted with
 * NODE_EXTRA_CA_CERTS (through bin/tsbox) or --cert-dir.
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, randomBytes, sign, X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, podman, sh, startRegistry, type LocalRegistry } from '../helpers/registry.js';
import { tsbox, type TsboxRunOptions } from '../helpers/tsbox.js';

const USER = 'alice';
const PASS = 'correct horse';

let work: string;
let pm: ReturnType<typeof podman>;
const servers: Server[] = [];
const registries: LocalRegistry[] = [];

function listen(server: Server, port = 0): Promise<string> {
  servers.push(server);
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(`127.0.0.1:${(server.address() as { port: number }).port}`)));
}

/** Run tsbox with a private HOME, config dir and docker config dir (never the real user's). */
function userEnv(name: string): { env: Record<string, string>; home: string } {
  const home = mkdtempSync(join(work, `home-${name}-`));
  return { home, env: { HOME: home, XDG_CONFIG_HOME: join(home, 'config'), DOCKER_CONFIG: join(home, 'docker') } };
}

function pull(ref: string, env: Record<string, string>, extra: TsboxRunOptions = {}) {
  return tsbox(['pull', ref], { root: mkdtempSync(join(work, 'state-')), env, ...extra });
}

function basicOf(req: IncomingMessage): { user: string; pass: string } | undefined {
  const m = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString();
  const i = text.indexOf(':');
  return { user: text.slice(0, i), pass: text.slice(i + 1) };
}

beforeAll(async () => {
  work = mkdtempSync('/var/tmp/tsbox-registry-auth-');
  pm = podman(join(work, 'podman'));
  const dir = join(work, 'rootfs');
  mkdirSync(join(dir, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', join(dir, 'bin', 'busybox'));
  await sh('tar', ['-C', dir, '-cf', join(work, 'rootfs.tar'), '.']);
  await pm('import', join(work, 'rootfs.tar'), 'localhost/t-auth:latest');
}, 120_000);

afterAll(async () => {
  for (const r of registries) await r.stop();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('basic auth (htpasswd)', () => {
  let registry: LocalRegistry;
  let image: string;

  beforeAll(async () => {
    const htpasswd = join(work, 'htpasswd');
    writeFileSync(htpasswd, execFileSync('htpasswd', ['-Bbn', USER, PASS]));
    registry = await startRegistry(join(work, 'registry-basic'), { kind: 'htpasswd', file: htpasswd });
    registries.push(registry);
    image = `${registry.host}/t/private:latest`;
    await pm('push', '--tls-verify=false', '--creds', `${USER}:${PASS}`, 'localhost/t-auth:latest', image);
  }, 60_000);

  it('without credentials: one line, exit 125, a hint to log in', async () => {
    const r = await pull(image, userEnv('anon').env);
    expect(r.code).toBe(125);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/authentication required or access denied\. Run 'tsbox login 127\.0\.0\.1:\d+' first/);
  });

  it('tsbox login checks the password, stores it 0600 in docker format; pull uses it; logout removes it', async () => {
    const { env, home } = userEnv('login');
    const wrong = await tsbox(['login', '-u', USER, '--password-stdin', registry.host], { env, input: 'nope\n' });
    expect(wrong.code).toBe(125);
    expect(wrong.stderr).toMatch(/^tsbox: login: .*authentication required or access denied/);
    const ok = await tsbox(['login', '-u', USER, '--password-stdin', registry.host], { env, input: `${PASS}\n` });
    expect([ok.code, ok.stderr]).toEqual([0, '']);
    const file = join(home, 'config', 'tsbox', 'auth.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { auths: Record<string, { auth: string }> };
    expect(Buffer.from(stored.auths[registry.host]!.auth, 'base64').toString()).toBe(`${USER}:${PASS}`);
    const r = await pull(image, env);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    const out = await tsbox(['logout', registry.host], { env });
    expect(out.code).toBe(0);
    expect((await pull(image, env)).code).toBe(125);
    const again = await tsbox(['logout', registry.host], { env });
    expect(again.code).toBe(125);
  });

  it('reads docker\'s ~/.docker/config.json auths', async () => {
    const { env } = userEnv('docker');
    mkdirSync(env.DOCKER_CONFIG!, { recursive: true });
    writeFileSync(join(env.DOCKER_CONFIG!, 'config.json'), JSON.stringify({ auths: { [`http://${registry.host}`]: { auth: Buffer.from(`${USER}:${PASS}`).toString('base64') } } }));
    const r = await pull(image, env);
    expect([r.code, r.stderr]).toEqual([0, '']);
  });

  it('sends no credentials to a blob redirect on another origin', async () => {
    // "storage": another origin that serves blobs (fetching them itself) and records what it was sent.
    const seenByStorage: (string | undefined)[] = [];
    const storage = createServer((req, res) => {
      seenByStorage.push(req.headers.authorization);
      const up = request({ host: '127.0.0.1', port: Number(registry.host.split(':')[1]), path: req.url, headers: { authorization: `Basic ${Buffer.from(`${USER}:${PASS}`).toString('base64')}`, ...(req.headers.range ? { range: req.headers.range } : {}) } }, (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      });
      up.end();
    });
    const storageHost = await listen(storage);
    // "registry front": proxies to the registry but redirects layer blobs to the storage origin.
    const seenByFront: (string | undefined)[] = [];
    const front = createServer((req, res) => {
      seenByFront.push(req.headers.authorization);
      if (req.method === 'GET' && /\/blobs\/sha256:/.test(req.url ?? '') && req.headers.authorization) {
        res.writeHead(307, { location: `http://${storageHost}${req.url}` });
        res.end();
        return;
      }
      const up = request({ host: '127.0.0.1', port: Number(registry.host.split(':')[1]), path: req.url, method: req.method, headers: req.headers }, (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      });
      req.pipe(up);
    });
    const frontHost = await listen(front);
    const { env } = userEnv('redirect');
    mkdirSync(env.DOCKER_CONFIG!, { recursive: true });
    writeFileSync(join(env.DOCKER_CONFIG!, 'config.json'), JSON.stringify({ auths: { [frontHost]: { auth: Buffer.from(`${USER}:${PASS}`).toString('base64') } } }));
    const r = await pull(`${frontHost}/t/private:latest`, env);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(seenByFront.some((a) => a?.startsWith('Basic '))).toBe(true);
    expect(seenByStorage.length).toBeGreaterThan(0);
    expect(seenByStorage).toEqual(seenByStorage.map(() => undefined));
  });
});

describe('token auth (Bearer realm, service, scope)', () => {
  const SERVICE = 'tsbox-test-registry';
  const ISSUER = 'tsbox-test-issuer';
  let registry: LocalRegistry;
  let image: string;
  const tokenRequests: { user: string | undefined; scope: string | null; service: string | null }[] = [];

  beforeAll(async () => {
    const dir = join(work, 'token');
    mkdirSync(dir);
    // A self-signed EC key pair: the registry trusts the certificate, the token server signs with the key.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=tsbox-test-token', '-days', '2', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    const key = createPrivateKey(readFileSync(join(dir, 'key.pem')));
    const certDer = new X509Certificate(readFileSync(join(dir, 'cert.pem'))).raw.toString('base64');
    const b64url = (b: Buffer) => b.toString('base64url');
    const tokenServer = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const creds = basicOf(req);
      const scope = url.searchParams.get('scope');
      tokenRequests.push({ user: creds?.user, scope, service: url.searchParams.get('service') });
      if (creds && (creds.user !== USER || creds.pass !== PASS)) {
        res.writeHead(401).end();
        return;
      }
      // Only alice may pull or push; anonymous tokens grant nothing.
      const access = creds && scope ? scope.split(' ').map((s) => {
        const [type, name, actions] = s.split(':');
        return { type, name, actions: actions!.split(',') };
      }) : [];
      const now = Math.floor(Date.now() / 1000);
      const header = b64url(Buffer.from(JSON.stringify({ typ: 'JWT', alg: 'ES256', x5c: [certDer] })));
      const claims = b64url(Buffer.from(JSON.stringify({ iss: ISSUER, sub: creds?.user ?? '', aud: SERVICE, exp: now + 600, nbf: now - 60, iat: now, jti: randomBytes(8).toString('hex'), access })));
      const signature = sign('sha256', Buffer.from(`${header}.${claims}`), { key, dsaEncoding: 'ieee-p1363' });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ token: `${header}.${claims}.${b64url(signature)}`, expires_in: 600 }));
    });
    const tokenPort = await freePort();
    const tokenHost = await listen(tokenServer, tokenPort);
    registry = await startRegistry(join(work, 'registry-token'), { kind: 'token', realm: `http://${tokenHost}/token`, service: SERVICE, issuer: ISSUER, rootCertBundle: join(dir, 'cert.pem') });
    registries.push(registry);
    image = `${registry.host}/t/tokened:latest`;
    await pm('push', '--tls-verify=false', '--creds', `${USER}:${PASS}`, 'localhost/t-auth:latest', image);
  }, 60_000);

  it('with credentials: asks the realm for a pull-scoped token with basic auth, then pulls', async () => {
    const { env } = userEnv('token');
    const login = await tsbox(['login', '-u', USER, '--password-stdin', registry.host], { env, input: PASS });
    expect([login.code, login.stderr]).toEqual([0, '']);
    tokenRequests.length = 0;
    const r = await pull(image, env);
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(tokenRequests).toContainEqual({ user: USER, scope: 'repository:t/tokened:pull', service: SERVICE });
    expect(tokenRequests.every((t) => t.user === USER)).toBe(true);
  });

  it('anonymous: the token grants nothing, one line, exit 125', async () => {
    tokenRequests.length = 0;
    const r = await pull(image, userEnv('token-anon').env);
    expect(r.code).toBe(125);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/authentication required or access denied/);
    expect(tokenRequests.length).toBeGreaterThan(0);
    expect(tokenRequests.every((t) => t.user === undefined)).toBe(true);
  });

  it('a wrong password is refused by the token server at login', async () => {
    const r = await tsbox(['login', '-u', USER, '--password-stdin', registry.host], { env: userEnv('token-wrong').env, input: 'bad' });
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/^tsbox: login: /);
  });
});


describe('TLS with a private CA', () => {
  let registry: LocalRegistry;
  let image: string;
  let ca: string;
  let certDir: string;

  beforeAll(async () => {
    const dir = join(work, 'tls');
    mkdirSync(dir);
    const o = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    o('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=tsbox-test-ca', '-days', '2', '-keyout', 'ca.key', '-out', 'ca.pem');
    o('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'srv.key', '-out', 'srv.csr');
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    o('x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'san.ext', '-out', 'srv.pem');
    ca = join(dir, 'ca.pem');
    certDir = join(dir, 'certs.d');
    mkdirSync(certDir);
    copyFileSync(ca, join(certDir, 'ca.crt'));
    registry = await startRegistry(join(work, 'registry-tls'), { kind: 'none' }, { certificate: join(dir, 'srv.pem'), key: join(dir, 'srv.key') });
    registries.push(registry);
    image = `${registry.host}/t/tls:latest`;
    await pm('push', '--tls-verify=false', 'localhost/t-auth:latest', image);
  }, 60_000);

  it('refuses an unknown CA when verification is asked for, in one line', async () => {
    const r = await tsbox(['pull', '--tls-verify=true', image], { root: mkdtempSync(join(work, 'state-')), env: { ...userEnv('tls1').env, NODE_EXTRA_CA_CERTS: '' } });
    expect(r.code).toBe(125);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^tsbox: pull: cannot reach https:\/\/127\.0\.0\.1:\d+: .*TLS failed: add the registry's CA/);
  });

  it('verifies with the CA from NODE_EXTRA_CA_CERTS (bin/tsbox passes it on) or --cert-dir', async () => {
    const viaEnv = await tsbox(['pull', '--tls-verify=true', image], { root: mkdtempSync(join(work, 'state-')), env: { ...userEnv('tls2').env, NODE_EXTRA_CA_CERTS: ca } });
    expect([viaEnv.code, viaEnv.stderr]).toEqual([0, '']);
    const viaDir = await tsbox(['pull', '--tls-verify=true', '--cert-dir', certDir, image], { root: mkdtempSync(join(work, 'state-')), env: { ...userEnv('tls3').env, NODE_EXTRA_CA_CERTS: '' } });
    expect([viaDir.code, viaDir.stderr]).toEqual([0, '']);
  });

  it('a loopback registry is insecure by default: https without verification', async () => {
    const r = await tsbox(['pull', image], { root: mkdtempSync(join(work, 'state-')), env: { ...userEnv('tls4').env, NODE_EXTRA_CA_CERTS: '' } });
    expect([r.code, r.stderr]).toEqual([0, '']);
  });
});
