/** WWW-Authenticate parsing, docker-format credential files, the TLS policy. */
import { readFileSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { credentialPaths, findCredentials, normalizeAuthKey, storeCredentials } from '../../src/registry/credentials.js';
import { isInsecure, loadTlsMaterial } from '../../src/registry/tls-policy.js';
import { parseWwwAuthenticate } from '../../src/registry/www-authenticate.js';
import { scratchDirs } from '../helpers/scratch.js';

const scratch = scratchDirs();

describe('parseWwwAuthenticate', () => {
  it('reads a bearer challenge with quoted values', () => {
    expect(parseWwwAuthenticate('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:t/app:pull"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:t/app:pull' } },
    ]);
  });
  it('reads basic, several challenges, escapes and unquoted values', () => {
    expect(parseWwwAuthenticate('Basic realm="Registry Realm"')).toEqual([{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
    expect(parseWwwAuthenticate(['Basic realm="a"', 'Bearer realm=http://x/t, service=s'])).toEqual([
      { scheme: 'basic', params: { realm: 'a' } },
      { scheme: 'bearer', params: { realm: 'http://x/t', service: 's' } },
    ]);
    expect(parseWwwAuthenticate('Bearer realm="a\\"b"')[0]!.params.realm).toBe('a"b');
  });
  it('survives garbage', () => {
    expect(parseWwwAuthenticate(undefined)).toEqual([]);
    expect(() => parseWwwAuthenticate('"=,,=" ;; Bearer realm="x')).not.toThrow();
  });
});

describe('credentials', () => {
  const dir = () => scratch('tsbox-cred-');
  it('finds docker config.json auths by host, however the key is written', () => {
    const home = dir();
    mkdirSync(join(home, '.docker'));
    writeFileSync(join(home, '.docker', 'config.json'), JSON.stringify({ auths: { 'https://127.0.0.1:5000/v2/': { auth: Buffer.from('alice:s3:cret').toString('base64') }, 'https://other.example/v1/': { auth: Buffer.from('bob:pw').toString('base64') } } }));
    const paths = credentialPaths({ HOME: home });
    expect(findCredentials('127.0.0.1:5000', paths)).toEqual({ username: 'alice', password: 's3:cret' });
    expect(findCredentials('other.example', paths)).toEqual({ username: 'bob', password: 'pw' });
    expect(findCredentials('127.0.0.1:5001', paths)).toBeUndefined();
  });
  it('login stores a 0600 docker-format file that wins over docker\'s; logout removes the entry', () => {
    const home = dir();
    const paths = credentialPaths({ HOME: home, XDG_CONFIG_HOME: join(home, 'cfg') });
    expect(paths.tsboxFile).toBe(join(home, 'cfg', 'tsbox', 'auth.json'));
    storeCredentials('localhost:5000', { username: 'u', password: 'p' }, paths);
    expect(statSync(paths.tsboxFile).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(paths.tsboxFile, 'utf8'))).toEqual({ auths: { 'localhost:5000': { auth: Buffer.from('u:p').toString('base64') } } });
    expect(findCredentials('localhost:5000', paths)).toEqual({ username: 'u', password: 'p' });
    expect(storeCredentials('localhost:5000', undefined, paths)).toBe(true);
    expect(storeCredentials('localhost:5000', undefined, paths)).toBe(false);
    expect(findCredentials('localhost:5000', paths)).toBeUndefined();
  });
  it('refuses a malformed file with one line', () => {
    const home = dir();
    mkdirSync(join(home, '.docker'));
    writeFileSync(join(home, '.docker', 'config.json'), '{');
    expect(() => findCredentials('x.example', credentialPaths({ HOME: home }))).toThrow(/not valid JSON/);
  });
  it('normalises keys', () => {
    expect(normalizeAuthKey('https://Registry.Example:443/v2/')).toBe('registry.example:443');
    expect(normalizeAuthKey('other.example/v1/')).toBe('other.example');
  });
});

describe('TLS policy', () => {
  it('treats loopback as insecure, others only when named', () => {
    expect(isInsecure('localhost:5000', {})).toBe(true);
    expect(isInsecure('127.0.0.1:5000', {})).toBe(true);
    expect(isInsecure('[::1]:5000', {})).toBe(true);
    expect(isInsecure('registry.example', {})).toBe(false);
    expect(isInsecure('registry.example:5000', { insecureRegistries: ['registry.example:5000'] })).toBe(true);
    expect(isInsecure('registry.example', { tlsVerify: false })).toBe(true);
    expect(isInsecure('localhost:5000', { tlsVerify: true })).toBe(false);
    expect(isInsecure('127.0.0.1.example', {})).toBe(false);
  });
  it('adds the user\'s extra CA file and a cert dir\'s CAs and client pair', () => {
    const d = scratch('tsbox-ca-');
    writeFileSync(join(d, 'extra.pem'), 'EXTRA');
    writeFileSync(join(d, 'ca.crt'), 'DIRCA');
    writeFileSync(join(d, 'client.cert'), 'CERT');
    writeFileSync(join(d, 'client.key'), 'KEY');
    const m = loadTlsMaterial('r.example', { certDir: d }, { TSBOX_EXTRA_CA_CERTS: join(d, 'extra.pem') });
    expect(m.ca).toContain('EXTRA');
    expect(m.ca).toContain('DIRCA');
    expect(m).toMatchObject({ cert: 'CERT', key: 'KEY' });
    expect(() => loadTlsMaterial('r.example', {}, { TSBOX_EXTRA_CA_CERTS: join(d, 'missing.pem') })).toThrow(/does not exist/);
  });
});
