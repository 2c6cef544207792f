/**
 * Registry credentials, in docker's config format ({"auths": {"HOST": {"auth": base64("user:pass")}}}):
 * tsbox's own file (written by `tsbox login`, mode 0600, under the user's config dir) is read
 * first, then docker's ~/.docker/config.json ($DOCKER_CONFIG). Credential helpers
 * (credsStore/credHelpers) are not run: tsbox executes no program named by a config file.
 */
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../errors.js';

export interface Credentials {
  username: string;
  password: string;
}

const MAX_CONFIG_BYTES = 1 << 20;

const authConfigSchema = z.object({
  auths: z.record(z.object({ auth: z.string().optional(), username: z.string().optional(), password: z.string().optional(), identitytoken: z.string().optional() }).passthrough()).optional(),
}).passthrough();
type AuthConfig = z.infer<typeof authConfigSchema>;

export interface CredentialPaths {
  tsboxFile: string;
  dockerFile: string;
}

export function credentialPaths(env: NodeJS.ProcessEnv = process.env): CredentialPaths {
  const home = env.HOME ?? homedir();
  const configHome = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(home, '.config');
  const dockerDir = env.DOCKER_CONFIG ?? join(home, '.docker');
  return { tsboxFile: join(configHome, 'tsbox', 'auth.json'), dockerFile: join(dockerDir, 'config.json') };
}

/** What docker's config keys reduce to: the bare host[:port] (scheme and path dropped). */
export function normalizeAuthKey(key: string): string {
  let k = key.replace(/^[a-z]+:\/\//i, '');
  const slash = k.indexOf('/');
  if (slash !== -1) k = k.slice(0, slash);
  k = k.toLowerCase();
  return k;
}


function readConfig(file: string): AuthConfig | undefined {
  let text: string;
  try {
    const bytes = readFileSync(file);
    if (bytes.length > MAX_CONFIG_BYTES) throw new UsageError(`${file} is larger than 1 MiB`, { step: 'read credentials' });
    text = bytes.toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UsageError(`${file} is not valid JSON`, { step: 'read credentials', hint: 'Fix or remove the file.' });
  }
  const r = authConfigSchema.safeParse(json);
  if (!r.success) throw new UsageError(`${file} is not a docker-format auth file`, { step: 'read credentials', hint: 'Expected {"auths": {"HOST": {"auth": "BASE64"}}}.' });
  return r.data;
}

function decode(entry: NonNullable<AuthConfig['auths']>[string], file: string, key: string): Credentials | undefined {
  if (entry.auth) {
    const text = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon <= 0) throw new UsageError(`${file}: the auth of '${key}' is not base64 of USER:PASSWORD`, { step: 'read credentials', hint: `Run 'tsbox login ${key}' again.` });
    return { username: text.slice(0, colon), password: text.slice(colon + 1) };
  }
  if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  return undefined;
}

/** The credentials stored for registry `domain` (as in a reference: host[:port]), if any. */
export function findCredentials(domain: string, paths: CredentialPaths = credentialPaths()): Credentials | undefined {
  const want = normalizeAuthKey(domain);
  for (const file of [paths.tsboxFile, paths.dockerFile]) {
    const config = readConfig(file);
    for (const [key, entry] of Object.entries(config?.auths ?? {})) {
      if (normalizeAuthKey(key) !== want) continue;
      const creds = decode(entry, file, key);
      if (creds) return creds;
    }
  }
  return undefined;
}

/** Store (or, with `creds` undefined, remove) the entry for `domain` in tsbox's auth file. Returns whether it changed. */
export function storeCredentials(domain: string, creds: Credentials | undefined, paths: CredentialPaths = credentialPaths()): boolean {
  const config = readConfig(paths.tsboxFile) ?? {};
  const auths = { ...(config.auths ?? {}) };
  const want = normalizeAuthKey(domain);
  let changed = false;
  for (const key of Object.keys(auths)) {
    if (normalizeAuthKey(key) === want) {
      delete auths[key];
      changed = true;
    }
  }
  if (creds) {
    auths[want] = { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') };
    changed = true;
  }
  if (!changed) return false;
  writePrivate(paths.tsboxFile, `${JSON.stringify({ ...config, auths }, null, '\t')}\n`);
  return true;
}

/** Written to a 0600 temp file first and renamed: the secret is never readable by others, even for a moment. */
function writePrivate(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    const data = Buffer.from(text);
    for (let off = 0; off < data.length; ) off += writeSync(fd, data, off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    chmodSync(tmp, 0o600);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
