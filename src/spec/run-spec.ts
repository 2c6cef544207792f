/**
 * From options to one validated RunSpec: every check that can be made before anything is
 * created happens here, so that bad input fails with one line and leaves nothing behind.
 */
import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, posix, resolve } from 'node:path';
import { ZodError } from 'zod';
import { TsboxError, UsageError } from '../errors.js';
import { parseCgroupLimits, parseCgroupParent, type CgroupLimits } from '../cgroups/index.js';
import { checkUserSpec } from '../init/users.js';
import { buildSecurityPlan, parseSecurityOpts, type SecurityPlan } from '../security/index.js';
import type { LogFormat, LogLevel } from '../log.js';
import type { TmpfsMount, Volume } from '../mounts/plan.js';
import { checkHostname, mergeEnv, parseEnvAssignment, parseEnvFile, parseTmpfs, parseVolume } from './parse.js';
import { FLAG_NAMES, runOptionsSchema, type ParsedRunOptions, type RunOptions } from './schema.js';
import { parseCount, parseSize } from './units.js';
import { checkName } from '../runtime/state/record.js';
import { stateDirFor } from '../runtime/state/store.js';

export const DEFAULT_ROOT = '/var/lib/tsbox';
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const DEFAULT_MAX_ROOTFS_SIZE = 64 * 1024 ** 3;
/** As image/prepare.ts's DEFAULT_MAX_ROOTFS_ENTRIES (not imported: the spec must not load the extractor). */
const DEFAULT_MAX_ROOTFS_ENTRIES = 1_000_000;

export type StdioChoice = 'inherit' | 'ignore' | number;

export interface RunSpec {
  /** 64 hex digits, as docker's ids; the short id (12) names the state directory and the default hostname. */
  id: string;
  shortId: string;
  root: string;
  /** maxSize: bytes an archive may expand to (content and headers); maxEntries: members it may have. */
  rootfs: { source: string; readOnly: boolean; maxSize: number; maxEntries: number };
  hostname: string;
  process: { args: string[]; env: string[]; cwd: string; user: string | null };
  volumes: Volume[];
  tmpfs: TmpfsMount[];
  security: SecurityPlan;
  privileged: boolean;
  cgroup: { parent: string | undefined; limits: CgroupLimits };
  report: { stats: boolean; statsFile: string | null };
  log: { level: LogLevel; format: LogFormat };
  debug: boolean;
  stdio: [StdioChoice, StdioChoice, StdioChoice];
  /** Where the container's record lives (runtime/state/store.ts). */
  stateDir: string;
  name: string | null;
  detach: boolean;
  /** Keep the record after exit, until `tsbox rm`: -d or --name (as docker without --rm). */
  keep: boolean;
  tty: boolean;
  init: boolean;
}

/** The state root: --root, else $TSBOX_ROOT, else /var/lib/tsbox. Two roots never share state. */
export function resolveRoot(root: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(root ?? env.TSBOX_ROOT ?? DEFAULT_ROOT);
}

export function parseRunOptions(options: RunOptions): ParsedRunOptions {
  try {
    return runOptionsSchema.parse(options);
  } catch (err) {
    if (err instanceof ZodError) throw zodToUsageError(err);
    throw err;
  }
}

export function zodToUsageError(err: ZodError): UsageError {
  const issue = err.issues[0]!;
  const field = String(issue.path[0] ?? '');
  const flag = FLAG_NAMES[field] ?? field;
  const message = issue.code === 'unrecognized_keys' ? `unknown option ${issue.keys.join(', ')}` : `invalid ${flag}: ${issue.message}`;
  return new UsageError(message, { hint: 'See tsbox run --help.' });
}

/**
 * `chosen.id`: the id tsbox's CLI picked when it started the container's init before
 * parsing its command line (namespaces/early-init.ts); random otherwise.
 */
export async function buildRunSpec(options: RunOptions, hostEnv: NodeJS.ProcessEnv = process.env, chosen: { id?: string } = {}): Promise<RunSpec> {
  const o = parseRunOptions(options);
  if (chosen.id !== undefined && !/^[0-9a-f]{64}$/.test(chosen.id)) throw new TsboxError(`invalid container id '${chosen.id}': expected 64 hex digits`);
  const id = chosen.id ?? randomBytes(32).toString('hex');
  const shortId = id.slice(0, 12);
  const hostname = o.hostname === undefined ? shortId : checkHostname(o.hostname);

  const args = o.command.length > 0 ? o.command : ['/bin/sh'];
  if (args[0] === '') throw new UsageError('invalid COMMAND: the command name is empty', { hint: 'Give a command to run, e.g. tsbox run ROOTFS /bin/echo hi.' });

  if (o.user !== undefined) checkUserSpec(o.user);
  const cwd = o.workdir ?? '/';
  if (!cwd.startsWith('/')) throw new UsageError(`invalid -w '${cwd}': the working directory must be an absolute path`, { hint: 'For example -w /src.' });

  const fromFiles: string[] = [];
  for (const file of o.envFiles) fromFiles.push(...parseEnvFile(await readUserFile(file, '--env-file'), file, hostEnv));
  const fromFlags = o.env.map((e) => parseEnvAssignment(e, hostEnv)).filter((e): e is string => e !== null);
  const defaults = [`PATH=${DEFAULT_PATH}`, `HOSTNAME=${hostname}`, 'TERM=xterm'];
  const env = mergeEnv(defaults, fromFiles, fromFlags);

  const volumes: Volume[] = [];
  for (const v of o.volumes.map(parseVolume)) volumes.push({ ...v, sourceIsDir: await hostSourceIsDir(v.source) });
  const tmpfs = o.tmpfs.map(parseTmpfs);

  const maxSize = o.maxRootfsSize === undefined ? DEFAULT_MAX_ROOTFS_SIZE
    : typeof o.maxRootfsSize === 'number' ? o.maxRootfsSize : parseSize(o.maxRootfsSize, '--max-rootfs-size');
  const maxEntries = o.maxRootfsEntries === undefined ? DEFAULT_MAX_ROOTFS_ENTRIES
    : typeof o.maxRootfsEntries === 'number' ? o.maxRootfsEntries : parseCount(o.maxRootfsEntries, '--max-rootfs-entries');

  const overrides = parseSecurityOpts(o.securityOpt);
  const security = buildSecurityPlan({
    capAdd: o.capAdd,
    capDrop: o.capDrop,
    privileged: o.privileged,
    noNewPrivileges: overrides.noNewPrivileges ?? true,
    seccomp: overrides.seccomp ?? { kind: o.privileged ? 'unconfined' : 'default' },
  });
  if (o.cgroupParent !== undefined) parseCgroupParent(o.cgroupParent);
  const limits = parseCgroupLimits({
    memory: o.memory,
    memorySwap: o.memorySwap,
    memoryReservation: o.memoryReservation,
    cpus: o.cpus,
    cpuWeight: o.cpuWeight,
    cpuShares: o.cpuShares,
    cpusetCpus: o.cpusetCpus,
    pidsLimit: o.pidsLimit,
    deviceReadBps: o.deviceReadBps,
    deviceWriteBps: o.deviceWriteBps,
  });

  if (o.name !== undefined) checkName(o.name);
  if (o.tty && o.detach) throw new UsageError('-t and -d cannot be combined: a detached container has no terminal to attach', { hint: 'Drop -t, and use tsbox logs to read its output.' });
  const root = resolveRoot(o.root, hostEnv);

  return {
    id,
    shortId,
    root,
    rootfs: { source: o.rootfs === '-' ? '-' : resolve(o.rootfs), readOnly: o.readOnly, maxSize, maxEntries },
    hostname,
    process: { args, env, cwd: posix.normalize(cwd), user: o.user ?? null },
    volumes,
    tmpfs,
    security,
    privileged: o.privileged,
    cgroup: { parent: o.cgroupParent, limits },
    report: { stats: o.stats, statsFile: o.statsFile === undefined ? null : resolve(o.statsFile) },
    log: { level: o.debug ? 'debug' : o.logLevel, format: o.logFormat },
    debug: o.debug,
    // stdin feeds the rootfs archive with "-": the container then reads from nothing.
    // With -t the init makes the pty its stdio; a detached container's stdio is set by its monitor.
    stdio: o.tty ? ['ignore', 'ignore', 'ignore'] : [o.rootfs === '-' ? 'ignore' : o.stdin, o.stdout, o.stderr],
    stateDir: stateDirFor(root, DEFAULT_ROOT),
    name: o.name ?? null,
    detach: o.detach,
    keep: o.detach || o.name !== undefined,
    tty: o.tty,
    init: o.init,
  };
}

async function readUserFile(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${flag} ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code}`, { hint: `Check the path given to ${flag}.` });
  }
}

async function hostSourceIsDir(source: string): Promise<boolean> {
  if (!isAbsolute(source)) throw new UsageError(`invalid -v: host path '${source}' is not absolute`);
  try {
    return (await stat(source)).isDirectory();
  } catch {
    throw new UsageError(`invalid -v: host path ${source} does not exist`, { hint: 'Create it first; tsbox does not create host paths for volumes.' });
  }
}
