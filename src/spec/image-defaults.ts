/**
 * The named merge point of what the user asked for and what the image provides, before the
 * process spec is final (docker's rules, moby daemon/create.go merge and the image spec's
 * config): today every rootfs is a bare tree or tarball with no config, so the image side
 * is EMPTY_IMAGE_DEFAULTS and this merges nothing; the image issue passes an OCI image's
 * config here, and nothing else has to change.
 *
 *   args  --entrypoint (else the image's Entrypoint) + COMMAND (else the image's Cmd, unless
 *         --entrypoint was given: docker drops the image's Cmd then); /bin/sh if all is empty
 *   env   tsbox's defaults < the image's Env < --env-file < -e
 *   cwd   -w, else the image's WorkingDir, else /
 *   user  -u, else the image's User, else the image's default (root)
 *
 * Pure, unit-tested (tests/unit/spec-image-defaults.test.ts).
 */
import { mergeEnv } from './parse.js';

/** The fields of an OCI image config (image-spec config.md) that shape the process. */
export interface ImageDefaults {
  entrypoint: string[] | null;
  cmd: string[] | null;
  env: string[];
  workingDir: string | null;
  user: string | null;
}

export const EMPTY_IMAGE_DEFAULTS: ImageDefaults = { entrypoint: null, cmd: null, env: [], workingDir: null, user: null };

/** What the user gave (flags and COMMAND); absent means "not given", not "empty". */
export interface ProcessRequest {
  entrypoint?: string[];
  command: string[];
  /** tsbox's own defaults (PATH, HOSTNAME, TERM), the lowest layer. */
  baseEnv: string[];
  envFromFiles: string[];
  envFromFlags: string[];
  workdir?: string;
  user?: string;
}

export interface ProcessSpec {
  args: string[];
  env: string[];
  cwd: string;
  user: string | null;
}

export const DEFAULT_COMMAND = ['/bin/sh'];

export function mergeImageDefaults(req: ProcessRequest, image: ImageDefaults): ProcessSpec {
  const entrypoint = req.entrypoint ?? image.entrypoint ?? [];
  const cmd = req.command.length > 0 ? req.command : req.entrypoint !== undefined ? [] : image.cmd ?? [];
  const args = [...entrypoint, ...cmd];
  return {
    args: args.length > 0 ? args : [...DEFAULT_COMMAND],
    env: mergeEnv(req.baseEnv, image.env, req.envFromFiles, req.envFromFlags),
    cwd: req.workdir ?? image.workingDir ?? '/',
    user: req.user ?? image.user ?? null,
  };
}
