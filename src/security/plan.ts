/**
 * The security plan: options → capability sets, no_new_privs, and a compiled seccomp filter.
 * Computed in the parent (pure, apart from reading the kernel release by default), sent to
 * the container's init as JSON, applied there by apply.ts.
 */
import { release } from 'node:os';
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { ALL_CAPABILITIES, resolveBoundingSet } from './capabilities.js';
import { dockerProfileToSeccomp, parseKernel } from './docker-profile.js';
import { compileSeccomp } from './seccomp-compile.js';
import { defaultSeccompProfile } from './seccomp-default.js';
import { describeAction, type SeccompProfile } from './seccomp-profile.js';

export interface SecurityOptions {
  capAdd: string[];
  capDrop: string[];
  privileged: boolean;
  noNewPrivileges: boolean;
  seccomp: { kind: 'default' } | { kind: 'unconfined' } | { kind: 'profile'; profile: unknown; source: string };
}

export interface CapabilitySets {
  bounding: string[];
  effective: string[];
  permitted: string[];
  inheritable: string[];
  ambient: string[];
}

export interface SeccompPlan {
  /** struct sock_filter[], base64. */
  filter: string;
  /** Rules compiled (one per syscall and alternative). */
  rules: number;
  instructions: number;
  /** "errno(1)", "kill-process"... */
  defaultAction: string;
  /** seccomp(2) flags the profile asks for (SECCOMP_FILTER_FLAG_LOG...); tsbox adds TSYNC when loading. */
  flags: number;
  /** Where the profile came from: "default" or the file. */
  source: string;
  /** Syscall names of the profile that x86_64 does not have, skipped. */
  skippedNames: string[];
}

export interface SecurityPlan {
  /** 'all': every capability the kernel knows (--privileged), read at apply time. */
  capabilities: CapabilitySets | 'all';
  noNewPrivileges: boolean;
  seccomp: SeccompPlan | null;
}

/** Facts about the machine the container will run on. */
export interface HostFacts {
  /** uname -r, e.g. "6.18.44". Decides docker profiles' minKernel and the ptrace rule. */
  kernelRelease: string;
}

const optionsSchema = z.object({
  capAdd: z.array(z.string()),
  capDrop: z.array(z.string()),
  privileged: z.boolean(),
  noNewPrivileges: z.boolean(),
  seccomp: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('default') }),
    z.object({ kind: z.literal('unconfined') }),
    z.object({ kind: z.literal('profile'), profile: z.unknown(), source: z.string() }),
  ]),
});

export function buildSecurityPlan(opts: SecurityOptions, host: HostFacts = { kernelRelease: release() }): SecurityPlan {
  const checked = optionsSchema.safeParse(opts);
  if (!checked.success) {
    const issue = checked.error.issues[0]!;
    throw new UsageError(`invalid security options: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }

  const bounding = resolveBoundingSet(opts);
  // A new process gets exactly the bounding set, and nothing it could pass on through
  // exec by itself: inheritable and ambient empty (CVE-2022-29162).
  const capabilities: SecurityPlan['capabilities'] =
    bounding === 'all' ? 'all' : { bounding, effective: [...bounding], permitted: [...bounding], inheritable: [], ambient: [] };

  return { capabilities, noNewPrivileges: opts.noNewPrivileges, seccomp: planSeccomp(opts, bounding, host) };
}

function planSeccomp(opts: SecurityOptions, bounding: string[] | 'all', host: HostFacts): SeccompPlan | null {
  const { seccomp } = opts;
  // --privileged means no filter, as in docker, unless a profile file was asked for explicitly.
  if (seccomp.kind === 'unconfined' || (seccomp.kind === 'default' && opts.privileged)) return null;
  const caps = new Set(bounding === 'all' ? ALL_CAPABILITIES : bounding);
  const kernel = parseKernel(host.kernelRelease);

  let profile: SeccompProfile;
  let skippedNames: string[] = [];
  if (seccomp.kind === 'default') {
    profile = defaultSeccompProfile(caps, kernel);
  } else {
    ({ profile, skippedNames } = dockerProfileToSeccomp(seccomp.profile, seccomp.source, { caps, kernel }));
  }
  const filter = compileSeccomp(profile);
  return {
    filter: filter.toString('base64'),
    rules: profile.rules.length,
    instructions: filter.length / 8,
    defaultAction: describeAction(profile.defaultAction),
    flags: profile.flags,
    source: seccomp.kind === 'default' ? 'default' : seccomp.source,
    skippedNames,
  };
}

/** For --debug logs: the sets by name, and the filter's size rather than its bytes. */
export function describeSecurityPlan(plan: SecurityPlan): object {
  return {
    capabilities: plan.capabilities === 'all' ? 'all (privileged)' : plan.capabilities,
    noNewPrivileges: plan.noNewPrivileges,
    seccomp: plan.seccomp
      ? {
          source: plan.seccomp.source,
          rules: plan.seccomp.rules,
          instructions: plan.seccomp.instructions,
          defaultAction: plan.seccomp.defaultAction,
          flags: plan.seccomp.flags,
          skippedNames: plan.seccomp.skippedNames.length,
        }
      : 'unconfined',
  };
}
