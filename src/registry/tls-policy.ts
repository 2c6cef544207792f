/**
 * Which registries may be reached without verified TLS, and which CAs verify the rest.
 * Docker's rules: a loopback registry (localhost, 127.0.0.0/8, ::1) is insecure by default;
 * any other only when named explicitly (--tls-verify=false for the pulled host, or
 * --insecure-registry HOST). "Insecure" means: TLS without verification, and plain HTTP when
 * the registry does not speak TLS at all.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { join } from 'node:path';
import { UsageError } from '../errors.js';

export interface TlsSettings {
  /** false: the named registry is reached without TLS verification (--tls-verify=false). */
  tlsVerify?: boolean;
  /** Further hosts (host[:port]) treated as insecure. */
  insecureRegistries?: string[];
  /** A directory of *.crt CAs and *.cert/*.key client pairs (podman's --cert-dir). */
  certDir?: string;
}

function hostOf(domain: string): string {
  if (domain.startsWith('[')) return domain.slice(1, domain.indexOf(']'));
  const colon = domain.lastIndexOf(':');
  return colon === -1 ? domain : domain.slice(0, colon);
}

export function isLoopback(domain: string): boolean {
  const host = hostOf(domain).toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export function isInsecure(domain: string, settings: TlsSettings): boolean {
  if (settings.tlsVerify === false) return true;
  if (settings.tlsVerify === true) return false;
  if (isLoopback(domain)) return true;
  const d = domain.toLowerCase();
  return (settings.insecureRegistries ?? []).some((h) => h.toLowerCase() === d || h.toLowerCase() === hostOf(d));
}

/** The default per-registry certificate directories, docker's and containers'. */
function defaultCertDirs(domain: string): string[] {
  return [join('/etc/docker/certs.d', domain), join('/etc/containers/certs.d', domain)];
}

const SYSTEM_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt'];

export interface TlsMaterial {
  ca: string[];
  cert?: string;
  key?: string;
}

function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/**
 * The CAs for a TLS connection to `domain`: Node's bundled roots, the system bundle, the
 * user's extra CA file (NODE_EXTRA_CA_CERTS, which bin/tsbox passes on as
 * TSBOX_EXTRA_CA_CERTS because it keeps Node from parsing it at every start), and the
 * certificate directories. Read only when a pull actually goes over TLS.
 */
export function loadTlsMaterial(domain: string, settings: TlsSettings, env: NodeJS.ProcessEnv = process.env): TlsMaterial {
  const ca: string[] = [...rootCertificates];
  const system = SYSTEM_BUNDLES.map(readOptional).find((t) => t !== undefined);
  if (system) ca.push(system);
  const extra = env.TSBOX_EXTRA_CA_CERTS || env.NODE_EXTRA_CA_CERTS;
  if (extra) {
    const text = readOptional(extra);
    if (text === undefined) throw new UsageError(`the extra CA file ${extra} (NODE_EXTRA_CA_CERTS) does not exist`, { step: 'pull', hint: 'Fix or unset NODE_EXTRA_CA_CERTS.' });
    ca.push(text);
  }
  const material: TlsMaterial = { ca };
  const dirs = settings.certDir !== undefined ? [settings.certDir] : defaultCertDirs(domain);
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch (err) {
      if (settings.certDir !== undefined) throw new UsageError(`--cert-dir ${dir}: ${(err as Error).message}`, { step: 'pull' });
      continue;
    }
    for (const name of names) {
      if (name.endsWith('.crt')) ca.push(readFileSync(join(dir, name), 'utf8'));
      if (name.endsWith('.cert') && material.cert === undefined) {
        const key = readOptional(join(dir, `${name.slice(0, -'.cert'.length)}.key`));
        if (key === undefined) throw new UsageError(`${join(dir, name)} has no matching .key file`, { step: 'pull' });
        material.cert = readFileSync(join(dir, name), 'utf8');
        material.key = key;
      }
    }
  }
  return material;
}
