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
import { STATIC_INIT_HOST_PATH } from '../mounts/static-init.js';
import { checkDistinctPaths, containerDevice, parseDeviceFlag, type HostNodeStat } from '../devices/device-flag.js';
import type { DeviceSpec } from '../devices/policy.js';
import { parseDeviceCgroupRule } from '../devices/rules.js';
import { buildSecurityPlan, parseSecurityOpts, type SecurityPlan } from '../security/index.js';
import type { ExplainFormat, LogFormat, LogLevel } from '../log.js';
import type { TmpfsMount, Volume } from '../mounts/plan.js';
import { EMPTY_IMAGE_DEFAULTS, mergeImageDefaults, type ProcessSpec } from './image-defaults.js';
import { checkHostname, parseEnvAssignment, parseEnvFile, parseTmpfs, parseVolume } from './parse.js';
import { FLAG_NAMES, runOptionsSchema, type ParsedRunOptions, type RunOptions } from './schema.js';
import { parseCount, parseSize } from './units.js';
import { readOnlyTmpfsMounts } from './read-only-tmpfs.js';
import { checkName } from '../runtime/state/record.js';
import { stateDirFor } from '../runtime/state/store.js';
import { checkStatsFile } from '../runtime/stats-file.js';
import { mergeLabels, parseLabel, parseLabelFile } from './labels.js';
import { parseLogOpts, type LogLimits } from './log-opts.js';
import { checkNetworkConfig, defaultNetwork, parseNetworkMode, type ContainerNetworkConfig } from '../network/container-network-config.js';
import { DEFAULT_PATHS, readNetwork } from '../network/ipam/store.js';

export const DEFAULT_ROOT = '/var/lib/tsbox';
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const DEFAULT_MAX_ROOTFS_SIZE = 64 * 1024 ** 3;
/** As image/prepare.ts's DEFAULT_MAX_ROOTFS_ENTRIES (not imported: the spec must not load the extractor). */
export const DEFAULT_MAX_ROOTFS_ENTRIES = 1_000_000;

export type StdioChoice = 'inherit' | 'ignore' | number;

/**
 * The container's config: what to run and how to confine it. Persisted with the container
 * (config.json, container/config-file.ts) and the same whichever front end made it: docker
 * flags today, an OCI config.json or an image config later. Nothing here depends on how
 * tsbox was invoked.
 */
export interface ContainerConfig {
  /** 64 hex digits, as docker's ids; the short id (12) names the state directory and the default hostname. */
  id: string;
  shortId: string;
  /** The state root (--root): where its directory, its cgroup's record and the image cache are. */
  root: string;
  /** maxSize: bytes an archive may expand to (content and headers); maxEntries: members it may have. */
  rootfs: { source: string; readOnly: boolean; maxSize: number; maxEntries: number };
  hostname: string;
  /** Final: the user's flags merged with the image's defaults (spec/image-defaults.ts). */
  process: ProcessSpec;
  volumes: Volume[];
  tmpfs: TmpfsMount[];
  /** The tmpfs mounts that come with --read-only (/tmp, /var/tmp, /run), planned before the user's mounts. */
  readOnlyTmpfs: TmpfsMount[];
  security: SecurityPlan;
  privileged: boolean;
  /** --device and --device-cgroup-rule; the policy itself is decided at run time (devices/policy.ts). */
  devices: DeviceSpec;
  cgroup: { parent: string | undefined; limits: CgroupLimits };
  name: string | null;
  /** Keep the record after exit, until `tsbox rm`: -d or --name, unless --rm (as docker). */
  keep: boolean;
  tty: boolean;
  init: boolean;
  /** --label: kept in the record (ps --filter label=, inspect). */
  labels: Record<string, string>;
  /** --log-opt: size limit and rotation of a kept container's log (runtime/container-log.ts). */
  logLimits: LogLimits;
  /** --network and its flags, checked (network/container-network-config.ts). */
  network: ContainerNetworkConfig;
}

/** How this tsbox command was invoked: not the container's, not persisted as its config. */
export interface Invocation {
  report: { stats: boolean; statsFile: string | null };
  /** explain: --explain's format (src/explain); the log level stays the user's. */
  log: { level: LogLevel; format: LogFormat; explain?: ExplainFormat };
  debug: boolean;
  /** false with --no-openat2 (testing only): resolve inside the root as on kernels before 5.6. */
  openat2: boolean;
  stdio: [StdioChoice, StdioChoice, StdioChoice];
  /** Where the container's record lives (runtime/state/store.ts). */
  stateDir: string;
  detach: boolean;
}

/** What a run needs: the container's config and this invocation (splitRunSpec takes them apart). */
export type RunSpec = ContainerConfig & Invocation;

const INVOCATION_KEYS = ['report', 'log', 'debug', 'openat2', 'stdio', 'stateDir', 'detach'] as const satisfies readonly (keyof Invocation)[];

export function splitRunSpec(spec: RunSpec): { config: ContainerConfig; invocation: Invocation } {
  const config: Record<string, unknown> = { ...spec };
  const invocation: Record<string, unknown> = {};
  for (const k of INVOCATION_KEYS) {
    invocation[k] = spec[k];
    delete config[k];
  }
  return { config: config as unknown as ContainerConfig, invocation: invocation as unknown as Invocation };
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

  if (o.command[0] === '') throw new UsageError('invalid COMMAND: the command name is empty', { hint: 'Give a command to run, e.g. tsbox run ROOTFS /bin/echo hi.' });

  if (o.user !== undefined) checkUserSpec(o.user);
  const cwd = o.workdir ?? '/';
  if (!cwd.startsWith('/')) throw new UsageError(`invalid -w '${cwd}': the working directory must be an absolute path`, { hint: 'For example -w /src.' });

  const fromFiles: string[] = [];
  for (const file of o.envFiles) fromFiles.push(...parseEnvFile(await readUserFile(file, '--env-file'), file, hostEnv));
  const fromFlags = o.env.map((e) => parseEnvAssignment(e, hostEnv)).filter((e): e is string => e !== null);
  // The merge point of the user's flags and the image's defaults (none yet: see image-defaults.ts).
  const processSpec = mergeImageDefaults({
    command: o.command,
    baseEnv: [`PATH=${DEFAULT_PATH}`, `HOSTNAME=${hostname}`, 'TERM=xterm'],
    envFromFiles: fromFiles,
    envFromFlags: fromFlags,
    workdir: o.workdir === undefined ? undefined : posix.normalize(cwd),
    user: o.user,
  }, EMPTY_IMAGE_DEFAULTS);

  const volumes: Volume[] = [];
  for (const v of o.volumes.map(parseVolume)) volumes.push({ ...v, sourceIsDir: await hostSourceIsDir(v.source) });
  const tmpfs = o.tmpfs.map(parseTmpfs);
  const readOnlyTmpfs = readOnlyTmpfsMounts({ readOnly: o.readOnly, readOnlyTmpfs: o.readOnlyTmpfs, userTargets: [...tmpfs.map((t) => t.target), ...volumes.map((v) => v.target)] });

  const maxSize = o.maxRootfsSize === undefined ? DEFAULT_MAX_ROOTFS_SIZE
    : typeof o.maxRootfsSize === 'number' ? o.maxRootfsSize : parseSize(o.maxRootfsSize, '--max-rootfs-size');
  const maxEntries = o.maxRootfsEntries === undefined ? DEFAULT_MAX_ROOTFS_ENTRIES
    : typeof o.maxRootfsEntries === 'number' ? o.maxRootfsEntries : parseCount(o.maxRootfsEntries, '--max-rootfs-entries');

  const overrides = parseSecurityOpts(o.securityOpt);
  const security = buildSecurityPlan({
    capAdd: o.capAdd,
    capDrop: o.capDrop,
    privileged: o.privileged,
    // Off unless asked, as in docker and podman: a non-root user in the container must be
    // able to use setuid tools (sudo, su, ping). The bounding set and seccomp still cap
    // what such a tool can gain; --security-opt no-new-privileges turns it on.
    noNewPrivileges: overrides.noNewPrivileges ?? false,
    seccomp: overrides.seccomp ?? { kind: o.privileged ? 'unconfined' : 'default' },
  });
  const devices: DeviceSpec = { nodes: [], rules: o.deviceCgroupRules.map(parseDeviceCgroupRule) };
  for (const request of o.devices.map(parseDeviceFlag)) devices.nodes.push(containerDevice(request, await statHostNode(request.hostPath)));
  checkDistinctPaths(devices.nodes);
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
  if (o.init) await checkStaticInit(STATIC_INIT_HOST_PATH);
  if (o.detach) checkDetachable(o);
  const root = resolveRoot(o.root, hostEnv);
  const statsFile = o.statsFile === undefined ? null : resolve(o.statsFile);
  if (statsFile !== null) checkStatsFile(statsFile);
  const labelsFromFiles: [string, string][] = [];
  for (const file of o.labelFiles) labelsFromFiles.push(...parseLabelFile(await readUserFile(file, '--label-file'), file));
  const labels = mergeLabels(labelsFromFiles, o.labels.map((l) => parseLabel(l)));
  const logLimits = parseLogOpts(o.logOpts);
  const network: ContainerNetworkConfig = {
    mode: parseNetworkMode(o.network ?? defaultNetwork(o.publish.length > 0 || o.publishAll)),
    aliases: o.networkAliases,
    publish: o.publish,
    publishAll: o.publishAll,
    ...(o.ip !== undefined ? { ip: o.ip } : {}),
    ...(o.macAddress !== undefined ? { mac: o.macAddress } : {}),
    dns: o.dns,
    dnsSearch: o.dnsSearch,
    dnsOptions: o.dnsOptions,
    addHosts: o.addHosts,
  };
  // Networks are host-wide (not per --root): /var/lib/tsbox-net, see docs/networking.md.
  checkNetworkConfig(network, (name) => readNetwork(DEFAULT_PATHS, name));
  // Only a kept container has a log: accepting the flag elsewhere would silently do nothing.
  if (o.logOpts.length > 0 && !o.detach && o.name === undefined) throw new UsageError('--log-opt needs -d or --name: only a kept container has a log', { hint: 'Add --name NAME to keep its log, or drop --log-opt.' });

  return {
    id,
    shortId,
    root,
    rootfs: { source: o.rootfs === '-' ? '-' : resolve(o.rootfs), readOnly: o.readOnly, maxSize, maxEntries },
    hostname,
    process: processSpec,
    volumes,
    tmpfs,
    readOnlyTmpfs,
    security,
    privileged: o.privileged,
    devices,
    cgroup: { parent: o.cgroupParent, limits },
    report: { stats: o.stats, statsFile },
    log: { level: o.debug ? 'debug' : o.logLevel, format: o.logFormat, ...(o.explain ? { explain: o.explain } : {}) },
    // --explain shows the init's calls: the init traces them as for --debug.
    debug: o.debug || o.explain !== undefined,
    openat2: o.openat2,
    // stdin feeds the rootfs archive with "-": the container then reads from nothing.
    // With -t the init makes the pty its stdio; a detached container's stdio is set by its monitor.
    stdio: o.tty ? ['ignore', 'ignore', 'ignore'] : [o.rootfs === '-' ? 'ignore' : o.stdin, o.stdout, o.stderr],
    stateDir: stateDirFor(root, DEFAULT_ROOT),
    name: o.name ?? null,
    detach: o.detach,
    keep: (o.detach || o.name !== undefined) && !o.rm,
    tty: o.tty,
    init: o.init,
    labels,
    logLimits,
    network,
  };
}

/**
 * The flags a detached container cannot honour, refused in one line rather than ignored:
 * its monitor has no terminal, no stdin and no stderr of the user's (run/detach.ts).
 * Everything else works with -d: --rm and --stats-file are done by the monitor at exit.
 */
function checkDetachable(o: ParsedRunOptions): void {
  if (o.tty) throw new UsageError('-t and -d cannot be combined: a detached container has no terminal to attach', { hint: 'Drop -t, and use tsbox logs to read its output.' });
  if (o.stats) throw new UsageError('--stats and -d cannot be combined: the summary is printed on the stderr of tsbox run, which returns at once with -d', { hint: 'Use --stats-file FILE: the container\'s monitor writes it when the container exits.' });
  if (o.rootfs === '-') throw new UsageError('a rootfs on stdin ("-") and -d cannot be combined: the container is started in the background, after tsbox run has returned', { hint: 'Save the archive to a file and give its path.' });
  // 'ignore' is what a detached container gets anyway (its stdin is /dev/null, its output the log).
  const redirected = (['stdin', 'stdout', 'stderr'] as const).filter((k) => o[k] !== 'inherit' && o[k] !== 'ignore');
  if (redirected.length > 0) throw new UsageError(`${redirected.join(', ')} and detach cannot be combined: a detached container's output goes to its log files`, { hint: 'Read it with tsbox logs.' });
}

async function readUserFile(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${flag} ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code}`, { hint: `Check the path given to ${flag}.` });
  }
}

/** --init runs the host's static tini (mounts/static-init.ts): refuse early, with the package to install. */
export async function checkStaticInit(path: string): Promise<void> {
  const st = await stat(path).catch(() => null);
  if (st?.isFile() && (st.mode & 0o111) !== 0) return;
  throw new UsageError(`--init needs tini, and ${path} is not installed`, { hint: 'Install it (apt-get install tini), or run without --init.' });
}

async function statHostNode(path: string): Promise<HostNodeStat> {
  try {
    const st = await stat(path);
    return { kind: st.isCharacterDevice() ? 'char' : st.isBlockDevice() ? 'block' : 'other', mode: st.mode, rdev: st.rdev, uid: st.uid, gid: st.gid };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`invalid --device '${path}': ${code === 'ENOENT' ? 'no such device on this host' : code}`, { hint: 'Name a device node of the host, e.g. /dev/loop0.' });
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
