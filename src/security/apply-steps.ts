/**
 * Applying a SecurityPlan: the decisions (which capability bits, in which set, for which
 * user) and the order of the calls. The calls go through a SecuritySys, so that tests can
 * record them; apply.ts passes the real one.
 */
import { TsboxError } from '../errors.js';
import { capabilityName, capabilityNumber } from './capabilities.js';
import type { CapabilitySets, SecurityPlan } from './plan.js';

export interface Credentials {
  uid: number;
  gid: number;
  additionalGids: number[];
}

export interface CapabilityMasks {
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
}

/** What the steps need from the kernel: one method per call. */
export interface SecuritySys {
  capLastCap(): number;
  capget(): CapabilityMasks;
  capbsetDrop(cap: number): void;
  setKeepCaps(keep: boolean): void;
  setgroups(gids: readonly number[]): void;
  setgid(gid: number): void;
  setuid(uid: number): void;
  capset(masks: CapabilityMasks): void;
  ambientClearAll(): void;
  ambientRaise(cap: number): void;
  setNoNewPrivs(): void;
  seccompSetFilter(program: Buffer, flags: number): void;
}

/** Every thread gets the filter, not only the one calling execve (Node has several). */
const SECCOMP_FILTER_FLAG_TSYNC = 1;

export interface SecurityStepOptions {
  /**
   * 'all' (the container's init, which becomes the command by execve): the filter is
   * synchronised onto every thread. 'calling' (the exec-init, which starts the command with
   * posix_spawn from this thread and stays outside the container): the filter goes on the
   * calling thread only; the child is cloned from it and inherits exactly its state.
   */
  threads: 'all' | 'calling';
}

export interface ResolvedCapabilities {
  /** Bits to keep in the bounding set; every other bit up to cap_last_cap is dropped. */
  bounding: number[];
  masks: CapabilityMasks;
  ambient: number[];
}

/**
 * Capability bits for the process that will exec, given its user, the kernel's
 * cap_last_cap and the permitted set tsbox itself holds. Bits the kernel does not know are
 * left out.
 *
 * Root (uid 0) gets the plan's effective/permitted/inheritable sets. 'all' (--privileged)
 * means every bit the kernel knows that tsbox holds: a process can never gain more (tsbox
 * itself may run with a reduced bounding set).
 * Any other user gets, as in docker, no effective, permitted or inheritable capabilities:
 * the bounding set still limits what setuid/file-capability binaries could gain (and
 * no_new_privs, with --security-opt no-new-privileges, stops those too). The only way to give a non-root user a
 * capability is the plan's ambient set, which is then raised in all four sets.
 */
export function resolveCapabilities(caps: CapabilitySets | 'all', uid: number, lastCap: number, held: bigint): ResolvedCapabilities {
  const known = (bits: number[]) => bits.filter((b) => b <= lastCap);
  if (caps === 'all') {
    const all = Array.from({ length: lastCap + 1 }, (_, i) => i).filter((b) => (held >> BigInt(b)) & 1n);
    const mask = toMask(all);
    return uid === 0
      ? { bounding: all, masks: { effective: mask, permitted: mask, inheritable: 0n }, ambient: [] }
      : { bounding: all, masks: { effective: 0n, permitted: 0n, inheritable: 0n }, ambient: [] };
  }
  const bounding = known(toBits(caps.bounding));
  const inBounding = (bits: number[]) => known(bits).filter((b) => bounding.includes(b));
  if (uid === 0) {
    return {
      bounding,
      masks: { effective: toMask(inBounding(toBits(caps.effective))), permitted: toMask(inBounding(toBits(caps.permitted))), inheritable: toMask(inBounding(toBits(caps.inheritable))) },
      ambient: inBounding(toBits(caps.ambient)),
    };
  }
  const ambient = inBounding(toBits(caps.ambient));
  const mask = toMask(ambient);
  return { bounding, masks: { effective: mask, permitted: mask, inheritable: mask }, ambient };
}

/**
 * The last steps before execve, in this order:
 *  1. drop the bounding set (needs CAP_SETPCAP, still held);
 *  2. keepcaps, so that setuid away from root does not clear the permitted set on its own;
 *  3. setgroups, setgid, setuid (groups first: after setuid we may no longer change them);
 *  4. capset: the final effective/permitted/inheritable sets;
 *  5. clear the ambient set, then raise what the plan asks;
 *  6. no_new_privs;
 *  7. seccomp, last, so that nothing above is subject to it.
 * Without no_new_privs, loading a filter needs CAP_SYS_ADMIN, which step 4 may take away:
 * then the filter is loaded first (as runc does), and must allow the calls of steps 1-5
 * (the default profile does).
 */
export function runSecuritySteps(plan: SecurityPlan, creds: Credentials, sys: SecuritySys, opts: SecurityStepOptions = { threads: 'all' }): void {
  const lastCap = sys.capLastCap();
  const held = sys.capget().permitted;
  const caps = resolveCapabilities(plan.capabilities, creds.uid, lastCap, held);
  const missing = caps.masks.permitted & ~held;
  if (missing) {
    const names = toBitList(missing).map(capabilityName).join(', ');
    throw new TsboxError(`capabilities not available to tsbox itself: ${names}`, { hint: 'Run tsbox with these capabilities, or --cap-drop them.' });
  }
  const filter = plan.seccomp ? Buffer.from(plan.seccomp.filter, 'base64') : null;
  const tsync = opts.threads === 'all' ? SECCOMP_FILTER_FLAG_TSYNC : 0;
  const loadFilter = () => filter && sys.seccompSetFilter(filter, (plan.seccomp!.flags | tsync) >>> 0);

  if (!plan.noNewPrivileges) loadFilter();
  for (let cap = 0; cap <= lastCap; cap++) if (!caps.bounding.includes(cap)) sys.capbsetDrop(cap);
  sys.setKeepCaps(true);
  sys.setgroups(creds.additionalGids);
  sys.setgid(creds.gid);
  sys.setuid(creds.uid);
  sys.capset(caps.masks);
  sys.ambientClearAll();
  for (const cap of caps.ambient) sys.ambientRaise(cap);
  if (plan.noNewPrivileges) {
    sys.setNoNewPrivs();
    loadFilter();
  }
}

function toBits(names: readonly string[]): number[] {
  return names.map((name) => {
    const bit = capabilityNumber(name);
    if (bit === undefined) throw new Error(`security plan names unknown capability ${name}`);
    return bit;
  });
}

function toBitList(mask: bigint): number[] {
  const bits: number[] = [];
  for (let b = 0; mask >> BigInt(b); b++) if ((mask >> BigInt(b)) & 1n) bits.push(b);
  return bits;
}

function toMask(bits: readonly number[]): bigint {
  return bits.reduce((m, b) => m | (1n << BigInt(b)), 0n);
}
