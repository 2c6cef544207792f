/**
 * Image config + command line → the process defaults, with docker's rules and the image
 * spec's conversion rules (config.md "Properties" and conversion.md). Pure.
 * - argv: Entrypoint + Cmd. A command on the command line replaces Cmd; --entrypoint
 *   replaces Entrypoint and clears the image's Cmd (only the command line's args follow).
 *   `--entrypoint ''` clears the Entrypoint (docker's way to run only the command).
 * - env: the image's Env, then -e values override by name (a PATH only if none).
 * - cwd: the command line's, else WorkingDir, else "/".
 * - user: the command line's, else User, else "" (root).
 * - stopSignal, exposedPorts, labels: from the image, for stop, -P and inspect.
 */
import type { ImageConfig } from './documents.js';

export interface CommandLine {
  /** Arguments after the image, [] when none. */
  command: string[];
  /** --entrypoint: undefined when not given, '' to clear. */
  entrypoint?: string;
  /** -e values, "NAME=value" (already resolved from the host for bare NAMEs). */
  env: string[];
  workdir?: string;
  user?: string;
}

export interface ProcessDefaults {
  argv: string[];
  env: string[];
  cwd: string;
  user: string;
  stopSignal: string | null;
  exposedPorts: string[];
  labels: Record<string, string>;
}

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export class MergeError extends Error {}

export function mergeImageConfig(image: ImageConfig, cli: CommandLine): ProcessDefaults {
  const c = image.config ?? {};
  let entrypoint = c.Entrypoint ?? [];
  let cmd = c.Cmd ?? [];
  if (cli.entrypoint !== undefined) {
    entrypoint = cli.entrypoint === '' ? [] : [cli.entrypoint];
    cmd = [];
  }
  if (cli.command.length > 0) cmd = cli.command;
  const argv = [...entrypoint, ...cmd];
  if (argv.length === 0) throw new MergeError('no command: the image has neither Entrypoint nor Cmd, and none was given');
  return {
    argv,
    env: mergeEnv(c.Env ?? [], cli.env),
    cwd: cli.workdir ?? (c.WorkingDir !== undefined && c.WorkingDir !== '' ? c.WorkingDir : '/'),
    user: cli.user ?? c.User ?? '',
    stopSignal: c.StopSignal !== undefined && c.StopSignal !== '' ? c.StopSignal : null,
    exposedPorts: Object.keys(c.ExposedPorts ?? {}).sort(),
    labels: { ...(c.Labels ?? {}) },
  };
}

/** Later entries override earlier ones by name; order of first appearance is kept. */
export function mergeEnv(imageEnv: string[], cliEnv: string[]): string[] {
  const out = new Map<string, string>();
  for (const e of [...imageEnv, ...cliEnv]) {
    const eq = e.indexOf('=');
    const name = eq === -1 ? e : e.slice(0, eq);
    if (name === '') continue;
    out.set(name, e);
  }
  if (!out.has('PATH')) out.set('PATH', DEFAULT_PATH);
  return [...out.values()];
}
