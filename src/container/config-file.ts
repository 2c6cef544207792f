/**
 * The container's persisted config (<state dir>/containers/<id>/spec.json), validated with
 * zod when read back by exec, inspect, start/restart and ps: what a later command acts on
 * is checked, never taken from a bare cast.
 *
 *   version 2  {version: 2, config: ContainerConfig, invocation: Invocation}
 *              the invocation is kept for what acts later in the container's name (a
 *              restart's log level, a detached run's --stats-file)
 *   no version the previous tsbox's bare RunSpec: read as config + invocation
 *
 * The nested plans (security, devices, cgroup limits, mounts) are checked for their shape
 * here and re-checked by the code that applies them (the security plan by its compiler, the
 * cgroup limits by their planner).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { TsboxError } from '../errors.js';
import { DEFAULT_MAX_ROOTFS_ENTRIES, type ContainerConfig, type Invocation, type RunSpec } from '../spec/run-spec.js';

export const CONFIG_FILE_VERSION = 2;

const abs = z.string().startsWith('/');
const stdioChoice = z.union([z.literal('inherit'), z.literal('ignore'), z.number().int().nonnegative()]);

export const containerConfigSchema = z.object({
  id: z.string().regex(/^[0-9a-f]{64}$/),
  shortId: z.string().regex(/^[0-9a-f]{12}$/),
  root: abs,
  // maxEntries: absent from configs written before --max-rootfs-entries: the default then
  rootfs: z.object({ source: z.string().min(1), readOnly: z.boolean(), maxSize: z.number().nonnegative(), maxEntries: z.number().int().positive().default(DEFAULT_MAX_ROOTFS_ENTRIES) }).passthrough(),
  hostname: z.string().min(1),
  process: z.object({ args: z.array(z.string()).min(1), env: z.array(z.string()), cwd: abs, user: z.string().nullable() }).strict(),
  volumes: z.array(z.object({ source: abs, target: abs, readOnly: z.boolean(), sourceIsDir: z.boolean() }).passthrough()),
  tmpfs: z.array(z.object({ target: abs, flags: z.number().int(), data: z.string() }).strict()),
  readOnlyTmpfs: z.array(z.object({ target: abs, flags: z.number().int(), data: z.string() }).strict()),
  security: z.object({ capabilities: z.union([z.literal('all'), z.object({}).passthrough()]), noNewPrivileges: z.boolean(), seccomp: z.object({}).passthrough().nullable() }).strict(),
  privileged: z.boolean(),
  devices: z.object({ nodes: z.array(z.object({}).passthrough()), rules: z.array(z.object({}).passthrough()) }).strict(),
  cgroup: z.object({ parent: z.string().optional(), limits: z.object({}).passthrough() }).strict(),
  name: z.string().nullable(),
  keep: z.boolean(),
  tty: z.boolean(),
  init: z.boolean(),
  labels: z.record(z.string()),
  logLimits: z.object({ maxSize: z.number().nullable(), maxFile: z.number().int().positive() }).strict(),
  // Fields other parts of tsbox add to the config are kept as they are (checked by their own
  // code): an unknown field is not a misread; a known field of the wrong shape is.
}).passthrough();

export const invocationSchema = z.object({
  report: z.object({ stats: z.boolean(), statsFile: abs.nullable() }).strict(),
  log: z.object({ level: z.string(), format: z.string() }).strict(),
  debug: z.boolean(),
  // absent from configs written before --no-openat2 existed: openat2 was always used then
  openat2: z.boolean().default(true),
  stdio: z.tuple([stdioChoice, stdioChoice, stdioChoice]),
  stateDir: abs,
  detach: z.boolean(),
}).passthrough();

/** Read and validate; a missing file throws ENOENT as is (the caller decides what absence means). */
export function readConfigFile(path: string): RunSpec {
  return parseConfigFile(readFileSync(path, 'utf8'), path);
}

export function serializeConfigFile(config: ContainerConfig, invocation: Invocation): string {
  // --explain belongs to the command that gave it: a later start or restart does not explain.
  const { explain: _explain, ...log } = invocation.log;
  return JSON.stringify({ version: CONFIG_FILE_VERSION, config, invocation: { ...invocation, log } });
}

/** The run spec a container was made with; one clear line if the file is not one this tsbox reads exactly. */
export function parseConfigFile(text: string, where: string): RunSpec {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw invalid(where, 'not JSON');
  }
  const version = (json as { version?: unknown } | null)?.version;
  let config: unknown;
  let invocation: unknown;
  if (version === CONFIG_FILE_VERSION) {
    ({ config, invocation } = json as { config: unknown; invocation: unknown });
  } else if (version === undefined && typeof json === 'object' && json !== null) {
    // The previous version's spec.json: a bare RunSpec, config and invocation together.
    const spec = json as Record<string, unknown>;
    const inv: Record<string, unknown> = {};
    for (const k of Object.keys(invocationSchema.shape)) inv[k] = spec[k];
    const conf = Object.fromEntries(Object.entries(spec).filter(([k]) => !(k in inv)));
    config = conf;
    invocation = inv;
  } else {
    throw new TsboxError(`${where} is a version ${JSON.stringify(version)} config; this tsbox reads version ${CONFIG_FILE_VERSION} (and the unversioned one before it)`, { step: 'read container config', hint: 'It was written by another tsbox version: use that one.' });
  }
  const c = containerConfigSchema.safeParse(config);
  if (!c.success) throw invalid(where, describe(c.error));
  const i = invocationSchema.safeParse(invocation);
  if (!i.success) throw invalid(where, describe(i.error));
  return { ...(c.data as unknown as ContainerConfig), ...(i.data as unknown as Invocation) };
}

function describe(err: z.ZodError): string {
  const issue = err.issues[0];
  return `${issue?.path.join('.') || '(top)'}: ${issue?.message}`;
}

function invalid(where: string, why: string): TsboxError {
  return new TsboxError(`${where} is not a valid container config (${why})`, { step: 'read container config', hint: 'Remove the container (tsbox rm -f) and create it again.' });
}
