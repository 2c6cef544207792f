/**
 * From a bundle to what tsbox-runtime's create needs, through src/oci/spec (the schema and
 * the translation into tsbox's plans, with its bridges in to-tsbox.ts): the init's plan, the
 * namespaces to make or join, the cgroup's place and limits, the device policy. What the
 * plan holds that this runtime cannot apply yet is refused here, one line naming the
 * config.json field, or logged where an engine sends it by default and it changes nothing
 * the container relies on (the warnings).
 */
import { UsageError } from '../../errors.js';
import type { CgroupLimits } from '../../cgroups/index.js';
import type { DevicePolicyTarget } from '../../devices/index.js';
import type { ContainerHooksPlan, InitPlan } from '../../init/protocol.js';
import type { HooksPlan } from '../spec/hooks.js';
import type { OciStateInput } from '../spec/state.js';
import type { SecurityPlan } from '../../security/plan.js';
import { hookStdin, loadBundle, toCgroupLimits, toCgroupParentName, toDevicePolicyTarget, toTsboxMountSteps, toTsboxNamespaces, toUserSpec, type LoadedBundle, type OciContainerPlan, type TsboxNamespaces } from '../spec/index.js';

/** Where a container's group goes when config.json names none: <cgroup2>/tsbox-runtime/<id>. */
export const DEFAULT_CGROUP_PARENT = 'tsbox-runtime';

export interface RuntimePlan {
  loaded: LoadedBundle;
  plan: OciContainerPlan;
  ns: TsboxNamespaces;
  cgroup: { parent: string; name: string };
  limits: CgroupLimits;
  devicePolicy: DevicePolicyTarget;
  /** Things applied approximately or ignored: logged at warn (the engine's log file). */
  warnings: string[];
  /** The init's plan, once the container's group is known (a cgroup mount without a cgroup namespace binds it). */
  initPlan(cgroupDir: string | null, debug: boolean): InitPlan;
}

export function planContainer(bundleDir: string, id: string, opts: { systemdCgroup: boolean }): RuntimePlan {
  const loaded = loadBundle(bundleDir, { systemdCgroup: opts.systemdCgroup });
  const { plan } = loaded;
  const ns = toTsboxNamespaces(plan);
  refuse(ns.unsupported);
  const { limits, unsupported } = toCgroupLimits(plan.cgroup.resources.writes);
  // A limit tsbox's cgroup manager cannot write would not be enforced: refused, never dropped.
  refuse(unsupported, 'tsbox-runtime cannot apply this cgroup setting yet.');
  refuse(notYetApplied(plan));
  const warnings = [...plan.warnings, ...plan.cgroup.resources.warnings];
  return {
    loaded,
    plan,
    ns,
    cgroup: toCgroupParentName(plan.cgroup.path, { defaultParent: DEFAULT_CGROUP_PARENT, id }),
    limits,
    devicePolicy: toDevicePolicyTarget(plan),
    warnings,
    initPlan(cgroupDir, debug) {
      const mounts = toTsboxMountSteps(plan, { cgroupNamespace: ns.cgroup, cgroupDir });
      refuse(mounts.unsupported);
      warnings.push(...mounts.approximated);
      const { user } = plan.process;
      return {
        containerId: id,
        rootfs: { kind: 'bind', path: plan.root.path, readOnly: plan.root.readOnly, nodev: false },
        hostname: plan.hostname ?? '',
        mounts: mounts.steps,
        process: {
          args: plan.process.args,
          env: plan.process.env,
          cwd: plan.process.cwd,
          user: toUserSpec(plan.process),
          ...(plan.process.rlimits.length > 0 ? { rlimits: plan.process.rlimits.map((r) => ({ resource: r.resource, soft: r.soft, hard: r.hard })) } : {}),
          // Exactly config.json's groups: nothing is looked up in the image's /etc/group (as runc).
          additionalGids: user.additionalGids,
          exactGroups: true,
          ...(user.umask !== null ? { umask: user.umask } : {}),
          ...(plan.process.oomScoreAdj !== null ? { oomScoreAdj: plan.process.oomScoreAdj } : {}),
        },
        security: raisableAmbient(plan.security),
        debug,
        tty: plan.process.terminal,
        // A config without a cgroup namespace keeps the one the init is born in (the runtime's).
        shared: { uts: false, cgroupns: !ns.cgroup },
        loopback: ns.newNet,
        // Written after the container's /proc is mounted, inside its root (init/sysctl.ts).
        ...(plan.sysctl.length > 0 ? { sysctl: plan.sysctl.map((s) => ({ name: s.name, value: s.value })) } : {}),
      };
    },
  };
}

/**
 * The init's part of config.json's hooks (the phases that run in the container), with the
 * state each phase's hooks read: `creating` for createContainer, `created` for
 * startContainer, and the init's pid as the runtime sees it. null: no hook at create's
 * sync point, nothing for the init to do.
 */
export function initHooks(hooks: HooksPlan, state: Omit<OciStateInput, 'status'>): ContainerHooksPlan | null {
  const runtimePoint = hooks.prestart.length > 0 || hooks.createRuntime.length > 0;
  if (!runtimePoint && hooks.createContainer.length === 0 && hooks.startContainer.length === 0) return null;
  return {
    runtimePoint,
    createContainer: hooks.createContainer,
    startContainer: hooks.startContainer,
    stdin: { createContainer: hookStdin('createContainer', state), startContainer: hookStdin('startContainer', state) },
  };
}

/**
 * The kernel raises an ambient capability only if it is also permitted and inheritable
 * (PR_CAP_AMBIENT_RAISE is EPERM otherwise). runc warns and goes on for the others, and its
 * default spec (and src/oci/spec's) asks for ambient ones without inheritable: the same here.
 */
export function raisableAmbient(security: SecurityPlan): SecurityPlan {
  const caps = security.capabilities;
  if (caps === 'all') return security;
  const ambient = caps.ambient.filter((c) => caps.inheritable.includes(c) && caps.permitted.includes(c));
  return ambient.length === caps.ambient.length ? security : { ...security, capabilities: { ...caps, ambient } };
}

/** What the plan says that tsbox's init does not do yet: refusing is better than a container other than asked. */
function notYetApplied(plan: OciContainerPlan): string[] {
  const out: string[] = [];
  if (plan.domainname !== null) out.push('domainname: setting the NIS domain name is not supported yet');
  if (plan.personality !== null && plan.personality !== 0) out.push('linux.personality: only LINUX is supported');
  return out;
}

function refuse(problems: readonly string[], hint = 'tsbox-runtime does not support this yet.'): void {
  if (problems.length > 0) throw new UsageError(`config.json: ${problems[0]}`, { step: 'read config.json', hint });
}
