/**
 * linux.seccomp (the runtime-spec's profile) -> tsbox's compiled filter (security/plan.ts's
 * SeccompPlan), through the reader tsbox already has for docker's profiles: the OCI format
 * is docker's without includes/excludes, with the same names and meanings (SCMP_ACT_*,
 * errnoRet and defaultErrnoRet, SCMP_CMP_* with MASKED_EQ's mask in value and the expected
 * value in valueTwo, one argument tested twice meaning OR as in runc, SECCOMP_FILTER_FLAG_*).
 * SCMP_ACT_KILL is SCMP_ACT_KILL_THREAD (libseccomp's meaning). Refused: SCMP_ACT_NOTIFY
 * and listenerPath (no seccomp agents in tsbox).
 *
 * Architectures: tsbox's filter is for x86_64 and kills any syscall made through another
 * ABI (i386, x32), whatever `architectures` lists: podman lists X86_64, X86 and X32, for
 * which runc would load the same rules per ABI; a 32-bit program is killed under tsbox.
 * Pure.
 */
import { UsageError } from '../../errors.js';
import { dockerProfileToSeccomp } from '../../security/docker-profile.js';
import { compileSeccomp } from '../../security/seccomp-compile.js';
import { describeAction } from '../../security/seccomp-profile.js';
import type { SeccompPlan } from '../../security/plan.js';
import type { Fail } from './errors.js';
import type { OciSeccomp } from './schema.js';

const SOURCE = 'config.json';

export function planSeccomp(s: OciSeccomp, bounding: readonly string[], fail: Fail): SeccompPlan {
  // Only the fields both formats share: unknown ones are the spec's to ignore, and docker's reader is strict.
  const docker = {
    defaultAction: s.defaultAction,
    defaultErrnoRet: s.defaultErrnoRet ?? null,
    architectures: s.architectures ?? null,
    flags: s.flags ?? null,
    listenerPath: s.listenerPath ?? null,
    syscalls: (s.syscalls ?? []).map((c) => ({
      names: c.names,
      action: c.action,
      errnoRet: c.errnoRet ?? null,
      args: (c.args ?? []).map((a) => ({ index: a.index, value: a.value, valueTwo: a.valueTwo ?? 0, op: a.op })),
    })),
  };
  let converted;
  try {
    // No includes/excludes in the OCI format: neither the bounding set nor the kernel decides anything.
    converted = dockerProfileToSeccomp(docker, SOURCE, { caps: new Set(bounding), kernel: { major: 0, minor: 0, patch: 0 } });
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    // "seccomp profile config.json: syscalls[2]: ..." -> "linux.seccomp.syscalls[2]: ..."
    const rest = err.message.replace(`seccomp profile ${SOURCE}: `, '');
    const colon = rest.indexOf(': ');
    const [where, what] = colon > 0 && /^[\w[\].]+$/.test(rest.slice(0, colon)) ? [rest.slice(0, colon), rest.slice(colon + 2)] : ['', rest];
    throw fail(where ? `linux.seccomp.${where}` : 'linux.seccomp', what);
  }
  const filter = compileSeccomp(converted.profile);
  return {
    filter: filter.toString('base64'),
    rules: converted.profile.rules.length,
    instructions: filter.length / 8,
    defaultAction: describeAction(converted.profile.defaultAction),
    flags: converted.profile.flags,
    source: 'config.json',
    skippedNames: converted.skippedNames,
  };
}
