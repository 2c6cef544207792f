/**
 * Runs in a child node process (bundled by security-apply.test.ts): applies the plan given
 * in TSBOX_TEST_PLAN with the given credentials, then reports, as one JSON line on stdout,
 * what /proc/self/status says and what some syscalls return. Everything after the apply
 * runs under the plan's seccomp filter, as the container's init does up to execve.
 */
import { readFileSync } from 'node:fs';
import { applySecurityPlan } from '../../src/security/apply.js';
import type { SecurityPlan } from '../../src/security/plan.js';
import { koffi, libc, rawSyscall } from '../../src/sys/libc.js';

const plan = JSON.parse(process.env.TSBOX_TEST_PLAN!) as SecurityPlan;
const creds = JSON.parse(process.env.TSBOX_TEST_CREDS!) as { uid: number; gid: number; additionalGids: number[] };
const getcwd = libc.func('void *getcwd(_Out_ uint8_t *buf, size_t size)');
const uname = libc.func('int uname(_Out_ uint8_t *buf)');

/** errno of a raw syscall, 0 if it succeeded. */
function tryRaw(nr: number, ...args: number[]): number {
  const typed = args.flatMap((a) => ['long', a]);
  const ret = rawSyscall(nr, ...typed) as number;
  return Number(ret) === -1 ? koffi.errno() : 0;
}

let applyError: string | null = null;
try {
  applySecurityPlan(plan, creds);
} catch (err) {
  applyError = String(err);
}

const status = Object.fromEntries(
  readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .filter((l) => /^(Cap\w+|NoNewPrivs|Seccomp|Seccomp_filters|Uid|Gid|Groups):/.test(l))
    .map((l) => l.split(':\t').map((s) => s.trim()) as [string, string]),
);

const KEYCTL_GET_KEYRING_ID = 0;
const KEY_SPEC_SESSION_KEYRING = -3;
const CLONE_NEWUTS = 0x04000000;
const errnos = {
  keyctl: tryRaw(250, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0),
  unshare: tryRaw(272, CLONE_NEWUTS),
  clone3: tryRaw(435, 0, 0),
  personality: tryRaw(135, 0x0040000),
  newerThanProfile: tryRaw(471),
  getpid: tryRaw(39),
  getcwd: getcwd(Buffer.alloc(4096), 4096) === null ? koffi.errno() : 0,
  uname: uname(Buffer.alloc(390)) === -1 ? koffi.errno() : 0,
};

process.stdout.write(`${JSON.stringify({ applyError, status, errnos })}\n`);
