/**
 * OCI runtime-spec 1.x bundles for tsbox (issue #14): read a bundle's config.json, check
 * it, and translate it into the plans tsbox's executors take. PURE: no syscalls, no koffi
 * (node:fs only in nodeBundleFs, replaceable). The runtime CLI (tsbox-runtime create,
 * start, state, exec, update, features, spec) lives elsewhere and uses only what is
 * exported here.
 *
 * ## Reading
 *   loadBundle(bundleDir, { fs?, systemdCgroup? }) -> { bundle, config, plan }
 *       bundleDir absolute. Reads BUNDLE/config.json, parses, translates. Throws OciSpecError.
 *   parseOciConfig(json) / parseOciConfigText(text) -> OciConfig   (shape + ociVersion 1.x)
 *   translateOciConfig(config, { bundle, probe, systemdCgroup?, file? }) -> OciContainerPlan
 *   parseOciProcess(json, file?) + planProcess(process, failIn(file), warnings, '') -> OciProcessPlan
 *       for `exec --process FILE` (the same object as config.json's process; prefix '' so that
 *       errors say "process.json: args: ..." rather than "process.args").
 *   parseOciResources(json, file?) + planResources(resources, failIn(file), '', { forNewGroup: false })
 *       -> ResourcesPlan for `update --resources FILE|-` (forNewGroup false: a write of "max"
 *       undoes an earlier limit; at create such writes are left out and need no controller);
 *       planDevicePolicy(resources.devices, fail) for its device list.
 *
 * Errors: every refusal is an OciSpecError (a UsageError, exit 125) whose message is one
 * line naming the file and JSON path: "config.json: process.args: expected an array of
 * strings", "config.json: linux.namespaces[5].type: time namespaces are not supported by
 * tsbox". `.jsonPath` holds the path. The caller adds the step (err.inStep('create')).
 * Warnings (ignored AppArmor/SELinux labels, v1-only cgroup knobs, unknown capabilities)
 * are returned in plan.warnings: log them, do not fail.
 *
 * ## The plan (OciContainerPlan, translate.ts), field by field
 *   root        { path: absolute host dir (checked: exists, is a dir, a relative one stays in
 *               the bundle, not "/"), readOnly, propagation: MS_* for "/" (default MS_SLAVE|MS_REC) }
 *   process     OciProcessPlan (process.ts): args, env (NAME=VALUE checked), cwd (absolute,
 *               normalised), user {uid, gid, additionalGids, umask|null}, terminal,
 *               consoleSize|null, capabilities (CapabilitySets by name), noNewPrivileges,
 *               rlimits [{type, resource: RLIMIT_* number, soft, hard: number|'unlimited'}],
 *               oomScoreAdj|null
 *   hostname / domainname   string|null (non-null only with a UTS namespace of its own)
 *   namespaces  NamespacePlan (namespaces.ts): cloneFlags (CLONE_NEW* of the new ones),
 *               created [types], joined [{type, path, nstype, isHost}] in join order (setns before
 *               creating), shared [types the host's]. Always has a new mount namespace.
 *   mounts      OciMountStep[] (mounts.ts), config order:
 *                 {op:'mount', fstype, source, target, flags, data, create:'dir', copyUp, propagation[], recursiveAttr}
 *                 {op:'bind', source (absolute host), target, recursive, flags (per-mount MS_* to
 *                  end with: RDONLY/NOSUID/NODEV/NOEXEC/atime), create:'dir'|'file', propagation[], recursiveAttr}
 *                 {op:'cgroup', target, flags, requested:'cgroup'|'cgroup2', propagation[], recursiveAttr}
 *                   -> cgroup2 with a cgroup namespace, else a bind of the container's own group
 *               propagation: MS_* values to apply with mount(NULL, target, NULL, p) after the
 *               mount; recursiveAttr: {set, clear} MOUNT_ATTR_* for mount_setattr(AT_RECURSIVE).
 *   maskedPaths / readonlyPaths   in-root paths, as tsbox's 'mask'/'readonly' steps (skip absent).
 *   devices     DevicesPlan (devices.ts): create (false when /dev is a bind), nodes [{target,
 *               type c|b|p, major, minor, mode, uid, gid}] (defaults + linux.devices),
 *               symlinks [{target, linkTo}], rules: DeviceRule[] for devices/program.ts
 *               (tsbox's defaults included) or null = no device program (allow all). Attach
 *               with devices/attach.ts attachDevicePolicy(groupPath, rules, sys), or with
 *               applyDevicePolicy(toDevicePolicyTarget(plan), ...) (the same rules); when no
 *               program can be attached, refuseWithoutDevicePolicy({devices, bounding}, why).
 *   cgroup      { path: CgroupPathPlan (cgroups-path.ts: default | path '/a/b' from the v2 root |
 *               relative 'a/b' under tsbox's parent | systemd -> mapped to a path, no systemd unit),
 *               resources: { writes: [{file, value, controller|null, source, fallback?}],
 *               controllers, warnings } } (resources.ts). Check controllers against the host with
 *               cgroups/availability.ts decideCgroup(facts, neededControllers(writes)) BEFORE
 *               creating anything; write `fallback` when `file` does not exist (io.bfq.weight).
 *   security    SecurityPlan (security/plan.ts), exactly what security/apply.ts takes:
 *               capabilities from config.json, noNewPrivileges, seccomp compiled (or null).
 *   sysctl      [{name, file (under /proc/sys), value}], only namespaced ones (sysctl.ts).
 *   personality 0 (LINUX) | 8 (LINUX32) | null
 *   hooks       HooksPlan: per phase [{path, args (argv), env, timeoutSeconds|null}];
 *               HOOK_PHASES says when, in which namespace, with which status, error or warn;
 *               hookStdin(phase, {id, pid, bundle, annotations}) is the JSON line to write on stdin.
 *   annotations, warnings, ociVersion, bundle
 *
 * ## Bridges to today's executors (to-tsbox.ts)
 *   toTsboxMountSteps(plan, { cgroupNamespace, cgroupDir }) -> { steps: MountStep[] for
 *       mounts/apply.ts (absolute container paths, resolved in-root there), unsupported: string[],
 *       approximated: string[] (to log: non-recursive binds made recursive, v2 for a v1 cgroup
 *       mount) }. A cgroup mount becomes cgroup2 with a cgroup namespace, else a bind of
 *       cgroupDir (the container's group), else an empty read-only tmpfs.
 *   toCgroupLimits(plan.cgroup.resources.writes) -> { limits: CgroupLimits, unsupported }
 *   toTsboxNamespaces(plan) -> { unshare, join [{path, flag, type}], newNet, newUts, cgroup, unsupported }
 *   toCgroupParentName(plan.cgroup.path, { defaultParent, id }) -> { parent, name } for cgroups/manager.ts
 *   toDevicePolicyTarget(plan) -> devices/index.ts applyDevicePolicy's target (same rules as plan.devices.rules)
 *   execSecurityPlan(containerPlan, processPlan) -> SecurityPlan for exec (the config's seccomp)
 *   toUserSpec(processPlan) -> "uid:gid" for init/protocol.ts ProcessPlan.user
 *   `unsupported` names what those shapes cannot carry (propagation other than private,
 *   non-recursive binds, rro..., tmpcopyup, cpuset.mems, hugetlb, io weights, unified...):
 *   refuse or log each, never drop silently.
 *
 * ## State, features, spec
 *   buildOciState({id, status, pid, bundle, annotations}) -> OciState; formatOciState(state, pretty)
 *       status: container/status.ts's Status or 'paused'; statusOf(record) converts docker words.
 *       The same object, with the phase's status, is a hook's stdin.
 *   ociFeatures(version) -> the `features` JSON.   defaultOciSpec() -> the `spec` config.json.
 *
 * ## For tsbox-runtime (its NEEDS-FROM-OCI-SPEC.md, point by point)
 *   1 parse: loadBundle(bundle) (or parseOciConfigText); err.inStep('read config.json').
 *   2 init plan: rootfs {path: plan.root.path, readOnly: plan.root.readOnly}; hostname:
 *     plan.hostname ?? ''; mounts: toTsboxMountSteps(plan, {cgroupNamespace, cgroupDir}).steps;
 *     process {args, env, cwd: plan.process.*, user: toUserSpec(plan.process)}; security:
 *     plan.security; tty: plan.process.terminal; cgroupNamespace/loopback: toTsboxNamespaces.
 *   3 namespaces: toTsboxNamespaces(plan) (refusals already made by translate).
 *   4 cgroup: toCgroupParentName(plan.cgroup.path, ...) (the systemd form is mapped, not
 *     refused: refuse it in the CLI if --systemd-cgroup is to stay unsupported);
 *     toCgroupLimits(plan.cgroup.resources.writes) or write the writes themselves;
 *     toDevicePolicyTarget(plan) for applyDevicePolicy.
 *   5 exec: planProcess(parseOciProcess(json), failIn(file), warnings, '') and
 *     execSecurityPlan(loadBundle(bundle).plan, proc).
 *   6 in the plan, waiting for InitPlan fields: process.user.additionalGids/umask,
 *     process.rlimits, sysctl, root.propagation, process.oomScoreAdj, hooks (+ hookStdin),
 *     personality, devices.nodes for /dev (already in toTsboxMountSteps' steps).
 *
 * ## Security: what the executor MUST do
 *   - Mount targets, device node targets, masked/readonly paths and symlink targets are
 *     IN-ROOT RELATIVE ("dev/pts"). They were clamped lexically ("/../x" is "x") but a
 *     symlink in the rootfs can still point anywhere: resolve every one with tsbox's in-root
 *     resolver (src/fs/in-root InRoot, openat2 RESOLVE_IN_ROOT) and act on the fd, exactly
 *     as mounts/apply.ts does. Never join them to the root path as a string.
 *   - Bind sources and root.path are host paths the engine gave (trusted, like runc trusts
 *     config.json); the probe only checked that they exist.
 *   - Namespaces joined by path: open the path and setns with `nstype` (the kernel then checks
 *     the fd is a namespace of that type).
 *   - A sysctl is written under /proc/sys inside the container, after its namespaces exist.
 */
export { OciSpecError, failIn, formatJsonPath, CONFIG_FILE, type Fail } from './errors.js';
export {
  parseOciConfig,
  parseOciConfigText,
  parseOciProcess,
  parseOciResources,
  ociConfigSchema,
  ociProcessSchema,
  ociResourcesSchema,
  type OciConfig,
  type OciProcess,
  type OciResources,
  type OciMount,
  type OciHooks,
  type OciLinux,
  type OciSeccomp,
  type OciNamespace,
  type OciDevice,
  type OciDeviceRule,
} from './schema.js';
export { loadBundle, nodeBundleFs, type BundleFs, type LoadedBundle } from './bundle.js';
export { translateOciConfig, type OciContainerPlan, type TranslateOptions } from './translate.js';
export { inRootPath, type BundleProbe } from './paths.js';
export { planProcess, planCapabilities, RLIMITS, type OciProcessPlan, type RlimitPlan, type RlimitValue } from './process.js';
export { planOciMounts, planPathList, type OciMountStep } from './mounts.js';
export { parseMountOptions, knownMountOptions, rootfsPropagationFlags, PROPAGATION, MS_MORE, MOUNT_ATTR_BITS, type ParsedMountOptions } from './mount-options.js';
export { planNamespaces, hasOwn, NAMESPACE_FLAGS, SUPPORTED_NAMESPACES, type NamespacePlan, type NamespaceJoin, type OciNamespaceType } from './namespaces.js';
export { planResources, neededControllers, controllerOf, blkioWeightToIoWeight, type CgroupWrite, type ResourcesPlan } from './resources.js';
export { planCgroupsPath, expandSlice, type CgroupPathPlan } from './cgroups-path.js';
export { planDeviceNodes, planDevicePolicy, nodeAllowed, refuseWithoutDevicePolicy, DEFAULT_OCI_DEVICES, type DevicesPlan, type OciDeviceNode } from './devices.js';
export { planSeccomp } from './seccomp.js';
export { planSysctls, type SysctlWrite } from './sysctl.js';
export { planHooks, hookRun, hookStdin, describeHookFailure, hookEnv, HOOK_PHASES, NO_HOOKS, type HookPhase, type HookPhaseInfo, type HookCommand, type HooksPlan, type HookOutcome } from './hooks.js';
export { buildOciState, formatOciState, type OciState, type OciStateInput, type OciStatus } from './state.js';
export { statusOf } from '../../container/status.js';
export { ociFeatures, SECCOMP_ACTIONS, SECCOMP_OPERATORS, SECCOMP_FLAGS, type OciFeatures } from './features.js';
export { defaultOciSpec } from './default-spec.js';
export { OCI_VERSION, OCI_VERSION_MIN, OCI_VERSION_MAX } from './version.js';
export {
  toTsboxMountSteps, toCgroupLimits, toTsboxNamespaces, toCgroupParentName, toDevicePolicyTarget, execSecurityPlan, toUserSpec,
  type TsboxMounts, type TsboxMountOptions, type TsboxLimits, type TsboxNamespaces,
} from './to-tsbox.js';
