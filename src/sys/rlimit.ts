/** Resource limits of this process (prlimit(2) on ourselves), for an OCI config's process.rlimits. */
import { check, koffi, libc } from './libc.js';

const rlimit = koffi.struct('tsbox_rlimit', { rlim_cur: 'uint64', rlim_max: 'uint64' });
const prlimitFn = libc.func('prlimit', 'int', ['int', 'int', koffi.pointer(rlimit), 'void *']);
/** RLIM_INFINITY: (rlim_t)-1. */
const INFINITY = 0xffffffffffffffffn;

export function setRlimit(resource: number, soft: number | 'unlimited', hard: number | 'unlimited'): void {
  const value = (v: number | 'unlimited') => (v === 'unlimited' ? INFINITY : BigInt(v));
  check(prlimitFn(0, resource, { rlim_cur: value(soft), rlim_max: value(hard) }, null) as number, 'prlimit', `resource ${resource}, soft ${soft}, hard ${hard}`);
}
