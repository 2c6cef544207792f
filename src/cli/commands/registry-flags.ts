/** The TLS flags every registry command takes (podman's names). */
import { Option, type Command } from 'commander';
import { UsageError } from '../../errors.js';
import type { TlsSettings } from '../../registry/tls-policy.js';
import { collect } from '../options.js';

export interface RegistryFlags {
  tlsVerify?: string | boolean;
  insecureRegistry: string[];
  certDir?: string;
}

export function registryFlags(cmd: Command): Command {
  return cmd
    .addOption(new Option('--tls-verify [bool]', 'verify the registry\'s TLS certificate (default true; loopback registries are insecure by default)'))
    .option('--insecure-registry <host>', 'treat HOST[:PORT] as insecure: no TLS verification, plain http allowed (repeatable)', collect, [])
    .option('--cert-dir <dir>', 'a directory of CA certificates (*.crt) and a client pair (*.cert, *.key)');
}

export function tlsSettings(flags: RegistryFlags): TlsSettings {
  let tlsVerify: boolean | undefined;
  if (flags.tlsVerify === true || flags.tlsVerify === 'true') tlsVerify = true;
  else if (flags.tlsVerify === 'false') tlsVerify = false;
  else if (flags.tlsVerify !== undefined) throw new UsageError(`--tls-verify takes true or false, not '${String(flags.tlsVerify)}'`, { step: 'parse options', hint: 'Write --tls-verify=false.' });
  return { tlsVerify, insecureRegistries: flags.insecureRegistry, certDir: flags.certDir };
}
