/**
 * An image config → the defaults a run merges (spec/image-defaults.ts), with the image
 * spec's conversion rules (config.md "Properties", conversion.md), every value checked:
 * the config is the image author's input, and a bad value is one line at run time, never
 * a half-made container.
 * - Entrypoint, Cmd, Env: strings without NUL (execve cannot pass one); Env entries NAME=VALUE.
 * - User: as -u, and no numeric id above int32 (CVE-2024-40635: wrapped to 0, root).
 * - WorkingDir: absolute; created in the container if missing (docker).
 * - StopSignal: a signal name (SIGQUIT, QUIT) or number, normalized to its name.
 * - ExposedPorts: PORT[/tcp|udp]; sctp is not published (tsbox has no sctp rules), noted.
 * - Healthcheck, Volumes, OnBuild: not applied (tsbox has no health checks and makes no
 *   anonymous volumes), noted so that the user learns it.
 * Pure.
 */
import { constants } from 'node:os';
import type { ImageDefaults } from '../../spec/image-defaults.js';
import type { ImageConfig } from './documents.js';

export class ImageConfigError extends Error {}

const MAX_ID = 2 ** 31 - 1;
const MAX_USER_LENGTH = 256;

export interface ConvertedConfig {
  defaults: ImageDefaults;
  /** What tsbox does not apply, one short sentence each (logged at info). */
  notes: string[];
}

export function imageDefaultsFromConfig(image: ImageConfig): ConvertedConfig {
  const c = image.config ?? {};
  const notes: string[] = [];
  const entrypoint = c.Entrypoint ?? null;
  const cmd = c.Cmd ?? null;
  for (const [what, list] of [['Entrypoint', entrypoint], ['Cmd', cmd]] as const) for (const a of list ?? []) noNul(what, a);
  const env = (c.Env ?? []).map((e) => checkEnv(e));
  const extra = c as Record<string, unknown>;
  if (extra.Healthcheck !== undefined && extra.Healthcheck !== null) notes.push('the image\'s Healthcheck is not run (tsbox has no health checks)');
  if (c.Volumes && Object.keys(c.Volumes).length > 0) notes.push(`the image's Volumes (${Object.keys(c.Volumes).join(', ')}) are not made: they stay part of the container's filesystem`);
  const exposedPorts: string[] = [];
  for (const key of Object.keys(c.ExposedPorts ?? {}).sort()) {
    const port = checkPort(key);
    if (port === null) notes.push(`exposed port ${key} is not published by -P (sctp)`);
    else if (!exposedPorts.includes(port)) exposedPorts.push(port);
  }
  return {
    defaults: {
      entrypoint,
      cmd,
      env,
      workingDir: c.WorkingDir === undefined || c.WorkingDir === '' ? null : checkWorkingDir(c.WorkingDir),
      user: c.User === undefined || c.User === '' ? null : checkUser(c.User),
      stopSignal: c.StopSignal === undefined || c.StopSignal === '' ? null : checkSignal(c.StopSignal),
      exposedPorts,
      labels: { ...(c.Labels ?? {}) },
      from: 'image',
    },
    notes,
  };
}

function noNul(what: string, s: string): void {
  if (s.includes('\0')) throw new ImageConfigError(`${what} ${JSON.stringify(s)} holds a NUL byte`);
}

function checkEnv(e: string): string {
  noNul('Env', e);
  const eq = e.indexOf('=');
  // docker reads a bare NAME in an image's Env as NAME= (empty); a name must be there.
  if (eq === 0 || e === '') throw new ImageConfigError(`Env entry ${JSON.stringify(e)} has no variable name`);
  return eq === -1 ? `${e}=` : e;
}

export function checkUser(user: string): string {
  noNul('User', user);
  if (user.length > MAX_USER_LENGTH || /[\n\r]/.test(user)) throw new ImageConfigError(`User ${JSON.stringify(user.slice(0, 40))} is not a user name or id`);
  const parts = user.split(':');
  if (parts.length > 2) throw new ImageConfigError(`User ${JSON.stringify(user)} is not USER[:GROUP]`);
  for (const part of parts) {
    if (/^[0-9]+$/.test(part) && (part.length > 10 || Number(part) > MAX_ID)) throw new ImageConfigError(`User ${JSON.stringify(user)} has an id above ${MAX_ID}`);
    if (/^-/.test(part)) throw new ImageConfigError(`User ${JSON.stringify(user)} has a negative id`);
    if (!/^[0-9]+$/.test(part) && !/^[A-Za-z_][A-Za-z0-9_.-]*\$?$/.test(part)) throw new ImageConfigError(`User ${JSON.stringify(user)}: '${part}' is not a user or group name`);
  }
  return user;
}

function checkWorkingDir(dir: string): string {
  noNul('WorkingDir', dir);
  if (!dir.startsWith('/')) throw new ImageConfigError(`WorkingDir ${JSON.stringify(dir)} is not an absolute path`);
  if (dir.length > 4096) throw new ImageConfigError('WorkingDir is longer than PATH_MAX');
  return dir;
}

const SIGNALS = constants.signals as Record<string, number>;

/** "SIGQUIT", "QUIT", "3" → "SIGQUIT"; anything else is refused. */
export function checkSignal(text: string): string {
  const t = text.trim().toUpperCase();
  if (/^[0-9]{1,2}$/.test(t)) {
    const name = Object.keys(SIGNALS).find((n) => SIGNALS[n] === Number(t));
    if (name !== undefined) return name;
  } else {
    const name = t.startsWith('SIG') ? t : `SIG${t}`;
    if (SIGNALS[name] !== undefined) return name;
  }
  throw new ImageConfigError(`StopSignal ${JSON.stringify(text.slice(0, 40))} is not a signal`);
}

/** "8080/tcp" / "8080" → "8080/tcp"; sctp → null; anything else is refused. */
function checkPort(key: string): string | null {
  const m = /^([0-9]{1,5})(?:\/(tcp|udp|sctp))?$/i.exec(key);
  const port = m === null ? NaN : Number(m[1]);
  if (m === null || port < 1 || port > 65535) throw new ImageConfigError(`ExposedPorts key ${JSON.stringify(key.slice(0, 40))} is not PORT[/tcp|udp]`);
  const proto = (m[2] ?? 'tcp').toLowerCase();
  return proto === 'sctp' ? null : `${port}/${proto}`;
}
