/**
 * The named merge point of what the user asked for and what the image provides, before the
 * process spec is final (docker's rules, moby daemon/create.go merge and the image spec's
 * config). A rootfs tarball or directory has no config: EMPTY_IMAGE_DEFAULTS, and this
 * merges nothing; an image's config becomes ImageDefaults in image/oci/config-merge.ts
 * (validated there) and is merged here.
 *
 *   args    --entrypoint (else the image's Entrypoint) + COMMAND (else the image's Cmd, unless
 *           --entrypoint was given: docker drops the image's Cmd then); a rootfs with
 *           nothing runs /bin/sh; an image with nothing is an error, as in docker
 *   env     tsbox's defaults < the image's Env < --env-file < -e
 *   cwd     -w, else the image's WorkingDir, else /
 *   user    -u, else the image's User, else the image's default (root)
 *   labels  the image's, then --label overrides by key (docker)
 *   ports   -P publishes the image's ExposedPorts that no -p names already
 *
 * Pure, unit-tested (tests/unit/spec-image-defaults.test.ts).
 */
import { UsageError } from '../errors.js';
import { mergeEnv } from './parse.js';

/** The fields of an OCI image config (image-spec config.md) that shape the container. */
export interface ImageDefaults {
  entrypoint: string[] | null;
  cmd: string[] | null;
  env: string[];
  workingDir: string | null;
  user: string | null;
  /** "SIGQUIT" or "3": what `tsbox stop` sends first; null: SIGTERM. */
  stopSignal: string | null;
  /** "8080/tcp", "53/udp": what -P publishes. */
  exposedPorts: string[];
  labels: Record<string, string>;
  /** Where these came from: "image" makes a run with nothing to run an error (docker). */
  from: 'rootfs' | 'image';
}

export const EMPTY_IMAGE_DEFAULTS: ImageDefaults = { entrypoint: null, cmd: null, env: [], workingDir: null, user: null, stopSignal: null, exposedPorts: [], labels: {}, from: 'rootfs' };

/** What the user gave (flags and COMMAND); absent means "not given", not "empty". */
export interface ProcessRequest {
  /** --entrypoint: [] for `--entrypoint ''` (clears the image's). */
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
  if (args.length === 0 && image.from === 'image') {
    throw new UsageError('no command: the image has neither Entrypoint nor Cmd, and none was given', { step: 'image config', hint: 'Give a command after the image, or --entrypoint.' });
  }
  return {
    args: args.length > 0 ? args : [...DEFAULT_COMMAND],
    env: mergeEnv(req.baseEnv, image.env, req.envFromFiles, req.envFromFlags),
    cwd: req.workdir ?? image.workingDir ?? '/',
    user: req.user ?? image.user ?? null,
  };
}

/** The container's labels: the image's, overridden by the user's (docker). */
export function mergeImageLabels(user: Record<string, string>, image: ImageDefaults): Record<string, string> {
  return { ...image.labels, ...user };
}

/**
 * -P: the image's exposed ports, each on a free host port ("8080/tcp" is -p's syntax for
 * that), except those a -p already publishes (same container port and protocol).
 */
export function publishedPorts(publish: string[], publishAll: boolean, image: ImageDefaults, taken: (p: string) => { containerPort: number; proto: string }[]): string[] {
  if (!publishAll) return publish;
  const named = new Set(publish.flatMap((p) => taken(p)).map((p) => `${p.containerPort}/${p.proto}`));
  return [...publish, ...image.exposedPorts.filter((p) => !named.has(p))];
}
