/**
 * tsbox login [SERVER] / tsbox logout [SERVER]: store (after checking them with the
 * registry) or remove credentials in tsbox's own auth file, docker's format, mode 0600
 * ($XDG_CONFIG_HOME/tsbox/auth.json or ~/.config/tsbox/auth.json). Pulls also read
 * docker's ~/.docker/config.json. The password comes from -p or, better, --password-stdin
 * (a password on the command line is visible to every user in /proc).
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { z } from 'zod';
import { TsboxError, UsageError } from '../../errors.js';
import { credentialPaths, normalizeAuthKey, storeCredentials } from '../../registry/credentials.js';
import { parseReference } from '../../registry/reference.js';
import { addCommonOptions, type CommonOptions } from '../options.js';
import { writeLine } from '../render-error.js';
import { registryFlags, tlsSettings, type RegistryFlags } from './registry-flags.js';

/** "https://host:5000/v2/" and "host:5000" name the same registry; it must be a valid registry host. */
export function serverArgument(server: string | undefined): string {
  const key = normalizeAuthKey(server ?? 'docker.io');
  let domain: string;
  try {
    domain = parseReference(`${key}/x`).domain;
  } catch {
    throw new UsageError(`'${server}' is not a registry host`, { step: 'parse options', hint: 'Give HOST[:PORT], e.g. localhost:5000.' });
  }
  if (domain !== key) throw new UsageError(`'${server}' is not a registry host`, { step: 'parse options', hint: 'Give HOST[:PORT] with a dot, a port or localhost, e.g. registry.example:5000.' });
  return domain;
}

const loginSchema = z.object({
  username: z.string().min(1, 'a user name is required (-u USER)').max(1024).refine((u) => !u.includes(':'), 'a user name cannot contain ":"'),
  password: z.string().min(1, 'a password is required (--password-stdin or -p)').max(64 * 1024),
});

export function loginCommand(): Command {
  const cmd = new Command('login')
    .description('log in to a registry: check the credentials and store them for pulls')
    .argument('[server]', 'HOST[:PORT] of the registry (default docker.io)')
    .option('-u, --username <user>', 'user name')
    .option('-p, --password <password>', 'password (visible to other users: prefer --password-stdin)')
    .option('--password-stdin', 'read the password from standard input', false)
    .action(async (server: string | undefined, flags: CommonOptions & RegistryFlags & { username?: string; password?: string; passwordStdin: boolean }) => {
      const domain = serverArgument(server);
      if (flags.passwordStdin && flags.password !== undefined) throw new UsageError('--password and --password-stdin are exclusive', { step: 'parse options' });
      const password = flags.passwordStdin ? readFileSync(0, 'utf8').replace(/\r?\n$/, '') : flags.password;
      const parsed = loginSchema.safeParse({ username: flags.username ?? '', password: password ?? '' });
      if (!parsed.success) throw new UsageError(parsed.error.issues[0]!.message, { step: 'parse options', hint: "See 'tsbox login --help'." });
      // The registry client is loaded on use: tsbox run's start does not pay for it.
      const { RegistrySession } = await import('../../registry/session.js');
      const session = new RegistrySession(domain, 'x', { ...tlsSettings(flags), credentials: parsed.data });
      try {
        await session.verifyLogin();
      } catch (err) {
        if (err instanceof TsboxError) err.step = 'login';
        throw err;
      } finally {
        session.close();
      }
      storeCredentials(domain, parsed.data);
      writeLine(1, `Login Succeeded (stored in ${credentialPaths().tsboxFile})`);
    });
  return addCommonOptions(registryFlags(cmd));
}

export function logoutCommand(): Command {
  const cmd = new Command('logout')
    .description('remove the credentials tsbox stored for a registry')
    .argument('[server]', 'HOST[:PORT] of the registry (default docker.io)')
    .action((server: string | undefined) => {
      const domain = serverArgument(server);
      if (!storeCredentials(domain, undefined)) throw new UsageError(`not logged in to ${domain}`, { step: 'logout', hint: `Credentials in ${credentialPaths().dockerFile} are docker's: remove them with docker logout.` });
      writeLine(1, `Removed login credentials for ${domain}`);
    });
  return addCommonOptions(cmd);
}
