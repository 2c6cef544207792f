/**
 * The shape of an OCI runtime-spec 1.x config.json (config.md, config-linux.md), as zod.
 *
 * The spec says a runtime MUST ignore properties it does not know, so unknown keys are
 * dropped, never refused; but a known property of the wrong type is refused, in one line
 * naming its JSON path ("config.json: process.args: expected an array of strings"). Go
 * writes a nil slice or pointer as null, so every optional field also accepts null (read
 * as absent). Numbers above 2^53 (an rlimit of 2^64-1, a seccomp mask) arrive rounded by
 * JSON.parse; the translators read them as what they meant.
 *
 * Types only: what a value means (an absolute cwd, a known capability, a sysctl that stays
 * in the container's namespaces) is checked by the translators, which know the context.
 */
import { z } from 'zod';
import { CONFIG_FILE, OciSpecError, formatJsonPath } from './errors.js';

const str = () => z.string({ invalid_type_error: 'expected a string' });
const bool = () => z.boolean({ invalid_type_error: 'expected true or false' });
const int = () => z.number({ invalid_type_error: 'expected a number' }).int('expected an integer');
const uint = () => int().min(0, 'expected a non-negative integer');
const u32 = () => uint().max(0xffffffff, 'expected an integer below 2^32');
const strList = () =>
  z.custom<string[]>((v) => Array.isArray(v) && v.every((s) => typeof s === 'string'), { message: 'expected an array of strings' });
const u32List = () =>
  z.custom<number[]>((v) => Array.isArray(v) && v.every((n) => Number.isInteger(n) && n >= 0 && n <= 0xffffffff), { message: 'expected an array of non-negative integers' });
const strMap = () =>
  z.custom<Record<string, string>>(
    (v) => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((s) => typeof s === 'string'),
    { message: 'expected an object whose values are strings' },
  );
const obj = <T extends z.ZodRawShape>(shape: T) => z.object(shape, { invalid_type_error: 'expected an object' });
const list = <T extends z.ZodTypeAny>(item: T) => z.array(item, { invalid_type_error: 'expected an array' });

export const ociUserSchema = obj({
  uid: u32(),
  gid: u32(),
  umask: u32().nullish(),
  additionalGids: u32List().nullish(),
  username: str().nullish(),
});

export const ociCapabilitiesSchema = obj({
  bounding: strList().nullish(),
  effective: strList().nullish(),
  inheritable: strList().nullish(),
  permitted: strList().nullish(),
  ambient: strList().nullish(),
});

export const ociRlimitSchema = obj({ type: str(), hard: uint(), soft: uint() });

/** process: also the whole of `exec --process FILE` (runtime.md). */
export const ociProcessSchema = obj({
  terminal: bool().nullish(),
  consoleSize: obj({ height: uint(), width: uint() }).nullish(),
  user: ociUserSchema,
  args: strList().nullish(),
  commandLine: str().nullish(),
  env: strList().nullish(),
  cwd: str(),
  capabilities: ociCapabilitiesSchema.nullish(),
  rlimits: list(ociRlimitSchema).nullish(),
  noNewPrivileges: bool().nullish(),
  oomScoreAdj: int().nullish(),
  apparmorProfile: str().nullish(),
  selinuxLabel: str().nullish(),
  ioPriority: obj({ class: str(), priority: int() }).nullish(),
  scheduler: obj({ policy: str() }).passthrough().nullish(),
  execCPUAffinity: obj({ initial: str().nullish(), final: str().nullish() }).nullish(),
});

export const ociMountSchema = obj({
  destination: str(),
  type: str().nullish(),
  source: str().nullish(),
  options: strList().nullish(),
  uidMappings: list(obj({ containerID: u32(), hostID: u32(), size: u32() })).nullish(),
  gidMappings: list(obj({ containerID: u32(), hostID: u32(), size: u32() })).nullish(),
});

export const ociHookSchema = obj({
  path: str(),
  args: strList().nullish(),
  env: strList().nullish(),
  timeout: int().nullish(),
});

const hookList = () => list(ociHookSchema).nullish();

export const ociHooksSchema = obj({
  prestart: hookList(),
  createRuntime: hookList(),
  createContainer: hookList(),
  startContainer: hookList(),
  poststart: hookList(),
  poststop: hookList(),
});

const idMapping = obj({ containerID: u32(), hostID: u32(), size: u32() });

export const ociDeviceSchema = obj({
  path: str(),
  type: str(),
  major: int().nullish(),
  minor: int().nullish(),
  fileMode: u32().nullish(),
  uid: u32().nullish(),
  gid: u32().nullish(),
});

export const ociDeviceRuleSchema = obj({
  allow: bool(),
  type: str().nullish(),
  major: int().nullish(),
  minor: int().nullish(),
  access: str().nullish(),
});

const throttleDevice = obj({ major: int(), minor: int(), rate: uint() });

export const ociResourcesSchema = obj({
  devices: list(ociDeviceRuleSchema).nullish(),
  memory: obj({
    limit: int().nullish(),
    reservation: int().nullish(),
    swap: int().nullish(),
    kernel: int().nullish(),
    kernelTCP: int().nullish(),
    swappiness: uint().nullish(),
    disableOOMKiller: bool().nullish(),
    useHierarchy: bool().nullish(),
    checkBeforeUpdate: bool().nullish(),
  }).nullish(),
  cpu: obj({
    shares: uint().nullish(),
    quota: int().nullish(),
    burst: uint().nullish(),
    period: uint().nullish(),
    realtimeRuntime: int().nullish(),
    realtimePeriod: uint().nullish(),
    cpus: str().nullish(),
    mems: str().nullish(),
    idle: int().nullish(),
  }).nullish(),
  pids: obj({ limit: int().nullish() }).nullish(),
  blockIO: obj({
    weight: uint().nullish(),
    leafWeight: uint().nullish(),
    weightDevice: list(obj({ major: int(), minor: int(), weight: uint().nullish(), leafWeight: uint().nullish() })).nullish(),
    throttleReadBpsDevice: list(throttleDevice).nullish(),
    throttleWriteBpsDevice: list(throttleDevice).nullish(),
    throttleReadIOPSDevice: list(throttleDevice).nullish(),
    throttleWriteIOPSDevice: list(throttleDevice).nullish(),
  }).nullish(),
  hugepageLimits: list(obj({ pageSize: str(), limit: uint() })).nullish(),
  network: obj({ classID: u32().nullish(), priorities: list(obj({ name: str(), priority: u32() })).nullish() }).nullish(),
  rdma: z
    .record(obj({ hcaHandles: u32().nullish(), hcaObjects: u32().nullish() }), { invalid_type_error: 'expected an object' })
    .nullish(),
  unified: strMap().nullish(),
});

export const ociSeccompSchema = obj({
  defaultAction: str(),
  defaultErrnoRet: u32().nullish(),
  architectures: strList().nullish(),
  flags: strList().nullish(),
  listenerPath: str().nullish(),
  listenerMetadata: str().nullish(),
  syscalls: list(
    obj({
      names: strList(),
      action: str(),
      errnoRet: u32().nullish(),
      args: list(obj({ index: uint(), value: uint(), valueTwo: uint().nullish(), op: str() })).nullish(),
    }),
  ).nullish(),
});

export const ociNamespaceSchema = obj({ type: str(), path: str().nullish() });

export const ociLinuxSchema = obj({
  namespaces: list(ociNamespaceSchema).nullish(),
  uidMappings: list(idMapping).nullish(),
  gidMappings: list(idMapping).nullish(),
  timeOffsets: z.record(z.unknown()).nullish(),
  devices: list(ociDeviceSchema).nullish(),
  resources: ociResourcesSchema.nullish(),
  cgroupsPath: str().nullish(),
  sysctl: strMap().nullish(),
  seccomp: ociSeccompSchema.nullish(),
  maskedPaths: strList().nullish(),
  readonlyPaths: strList().nullish(),
  rootfsPropagation: str().nullish(),
  mountLabel: str().nullish(),
  personality: obj({ domain: str(), flags: strList().nullish() }).nullish(),
  intelRdt: obj({}).passthrough().nullish(),
});

export const ociConfigSchema = obj({
  ociVersion: str(),
  process: ociProcessSchema.nullish(),
  root: obj({ path: str(), readonly: bool().nullish() }).nullish(),
  hostname: str().nullish(),
  domainname: str().nullish(),
  mounts: list(ociMountSchema).nullish(),
  hooks: ociHooksSchema.nullish(),
  annotations: strMap().nullish(),
  linux: ociLinuxSchema.nullish(),
});

export type OciConfig = z.infer<typeof ociConfigSchema>;
export type OciProcess = z.infer<typeof ociProcessSchema>;
export type OciMount = z.infer<typeof ociMountSchema>;
export type OciHook = z.infer<typeof ociHookSchema>;
export type OciHooks = z.infer<typeof ociHooksSchema>;
export type OciLinux = z.infer<typeof ociLinuxSchema>;
export type OciResources = z.infer<typeof ociResourcesSchema>;
export type OciSeccomp = z.infer<typeof ociSeccompSchema>;
export type OciNamespace = z.infer<typeof ociNamespaceSchema>;
export type OciDevice = z.infer<typeof ociDeviceSchema>;
export type OciDeviceRule = z.infer<typeof ociDeviceRuleSchema>;

/** Missing required fields say so; everything else keeps the schema's own "expected ..." message. */
const errorMap: z.ZodErrorMap = (issue, ctx) => {
  if (issue.code === 'invalid_type' && issue.received === 'undefined') return { message: 'is required' };
  return { message: ctx.defaultError };
};

/** Parse one document against a schema; the first problem becomes a one-line OciSpecError. */
export function parseDocument<T extends z.ZodTypeAny>(schema: T, json: unknown, file: string, prefix: readonly (string | number)[] = []): z.infer<T> {
  const result = schema.safeParse(json, { errorMap });
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = formatJsonPath([...prefix, ...issue.path]);
  if (path === '' && issue.code === 'invalid_type') throw new OciSpecError(file, '', `expected a JSON object, not ${issue.received}`);
  // A custom check (a list of strings...) sees a missing field as a wrong one: say it is missing.
  const missing = issue.code === 'custom' && valueAt(json, issue.path) === undefined;
  throw new OciSpecError(file, path, missing ? 'is required' : issue.message);
}

function valueAt(json: unknown, path: readonly (string | number)[]): unknown {
  let v = json;
  for (const key of path) v = typeof v === 'object' && v !== null ? (v as Record<string | number, unknown>)[key] : undefined;
  return v;
}

/** The ociVersion tsbox reads: any 1.x (1.0.0 to 1.2.x are what engines write). */
const VERSION = /^1\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?$/;

/** config.json, already JSON-parsed: its shape checked, its version a 1.x. */
export function parseOciConfig(json: unknown, file = CONFIG_FILE): OciConfig {
  const config = parseDocument(ociConfigSchema, json, file);
  if (!VERSION.test(config.ociVersion)) {
    throw new OciSpecError(file, 'ociVersion', `'${config.ociVersion}' is not a runtime-spec version tsbox reads (1.x, e.g. 1.0.2)`);
  }
  return config;
}

/** config.json as text: JSON first, then parseOciConfig. */
export function parseOciConfigText(text: string, file = CONFIG_FILE): OciConfig {
  return parseOciConfig(parseJson(text, file), file);
}

/** `exec --process FILE`: a process object alone (same shape as config.json's process). */
export function parseOciProcess(json: unknown, file = 'process.json'): OciProcess {
  return parseDocument(ociProcessSchema, json, file);
}

/** `update --resources FILE`: a linux.resources object alone. */
export function parseOciResources(json: unknown, file = 'resources.json'): OciResources {
  return parseDocument(ociResourcesSchema, json, file);
}

export function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const why = (err as Error).message.replace(/^JSON\.parse: /, '');
    throw new OciSpecError(file, '', `invalid JSON: ${why}`);
  }
}
