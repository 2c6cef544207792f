/**
 * Applies real security plans in child node processes (no container needed) and checks,
 * from inside, what the kernel says: /proc/self/status and the errno of denied syscalls.
 * Needs root (capset, setuid, dropping the bounding set).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildSecurityPlan, type SecurityOptions, type SecurityPlan } from '../../src/security/plan.js';

const isRoot = process.getuid?.() === 0;
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const EPERM = 1;
const ENOSYS = 38;

interface ChildReport {
  applyError: string | null;
  status: Record<string, string>;
  errnos: Record<string, number>;
}

let childCode = '';

/** `wrapper`: a command to start the child with (e.g. setpriv with a smaller bounding set). */
function runChild(plan: SecurityPlan, creds = { uid: 0, gid: 0, additionalGids: [] as number[] }, wrapper: string[] = []): ChildReport {
  const argv = [...wrapper, process.execPath, '--input-type=module', '-'];
  const r = spawnSync(argv[0]!, argv.slice(1), {
    cwd: repoRoot,
    input: childCode,
    env: { ...process.env, TSBOX_TEST_PLAN: JSON.stringify(plan), TSBOX_TEST_CREDS: JSON.stringify(creds) },
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (r.status !== 0) throw new Error(`child exited ${r.status} (signal ${r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildReport;
}

const options = (over: Partial<SecurityOptions> = {}): SecurityOptions => ({ capAdd: [], capDrop: [], privileged: false, noNewPrivileges: true, seccomp: { kind: 'default' }, ...over });
const mask = (bits: number[]) => bits.reduce((m, b) => m | (1n << BigInt(b)), 0n);
const hex = (m: bigint) => m.toString(16).padStart(16, '0');
// CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE SYS_CHROOT SETFCAP
const DEFAULT_BITS = [0, 1, 3, 4, 5, 6, 7, 8, 10, 18, 31];
/** The test runner's own permitted set: a child can never get more (some hosts run with a reduced bounding set). */
const ownPermitted = () => BigInt(`0x${/^CapPrm:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]}`);

describe('applying a security plan in a real process (root)', () => {
  beforeAll(() => {
    if (!isRoot) throw new Error('these tests apply capabilities and setuid: run the suite as root (see the README)');
    const out = buildSync({
      entryPoints: [fileURLToPath(new URL('./security-apply-child.ts', import.meta.url))],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      write: false,
      external: ['koffi'],
    });
    childCode = out.outputFiles[0]!.text;
  });

  it('default plan: podman caps, no_new_privs, filter mode; keyctl and unshare EPERM, clone3 ENOSYS', () => {
    const r = runChild(buildSecurityPlan(options()));
    expect(r.applyError).toBeNull();
    expect(r.status.CapBnd).toBe(hex(mask(DEFAULT_BITS)));
    expect(r.status.CapEff).toBe(hex(mask(DEFAULT_BITS)));
    expect(r.status.CapPrm).toBe(hex(mask(DEFAULT_BITS)));
    expect(r.status.CapInh).toBe(hex(0n));
    expect(r.status.CapAmb).toBe(hex(0n));
    expect(r.status.NoNewPrivs).toBe('1');
    expect(r.status.Seccomp).toBe('2');
    expect(r.status.Seccomp_filters).toBe('1');
    expect(r.errnos).toMatchObject({ keyctl: EPERM, unshare: EPERM, clone3: ENOSYS, personality: EPERM, newerThanProfile: ENOSYS, getpid: 0, getcwd: 0, uname: 0 });
  });

  it('control: unconfined with CAP_SYS_ADMIN, keyctl and unshare succeed', () => {
    const r = runChild(buildSecurityPlan(options({ capAdd: ['SYS_ADMIN'], noNewPrivileges: false, seccomp: { kind: 'unconfined' } })));
    expect(r.applyError).toBeNull();
    expect(r.status.Seccomp).toBe('0');
    expect(r.status.NoNewPrivs).toBe('0');
    expect(r.errnos).toMatchObject({ keyctl: 0, unshare: 0 });
  });

  it('the filter, not the missing capability, refuses unshare', () => {
    const admin = buildSecurityPlan(options({ capAdd: ['SYS_ADMIN'] }));
    const confined = buildSecurityPlan(options());
    const r = runChild({ ...admin, seccomp: confined.seccomp });
    expect(r.applyError).toBeNull();
    expect(BigInt(`0x${r.status.CapEff}`) & (1n << 21n)).toBe(1n << 21n);
    expect(r.errnos.unshare).toBe(EPERM);
    // And the filter built for that capability set lets it through.
    expect(runChild(admin).errnos.unshare).toBe(0);
  });

  it('a non-root user: bounding set kept, no effective or permitted capabilities', () => {
    const r = runChild(buildSecurityPlan(options()), { uid: 1000, gid: 1000, additionalGids: [1001] });
    expect(r.applyError).toBeNull();
    expect(r.status.Uid).toMatch(/^1000\s+1000\s+1000\s+1000$/);
    expect(r.status.Groups).toBe('1001');
    expect(r.status.CapBnd).toBe(hex(mask(DEFAULT_BITS)));
    expect(r.status.CapEff).toBe(hex(0n));
    expect(r.status.CapPrm).toBe(hex(0n));
    expect(r.status.Seccomp).toBe('2');
  });

  it('a docker JSON profile denying getcwd and uname with their own errnos', () => {
    const profile = {
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [
        { names: ['getcwd'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 },
        { names: ['uname'], action: 'SCMP_ACT_ERRNO', errnoRet: 95 },
      ],
    };
    const r = runChild(buildSecurityPlan(options({ seccomp: { kind: 'profile', profile, source: 'inline.json' } })));
    expect(r.applyError).toBeNull();
    expect(r.errnos).toMatchObject({ getcwd: 13, uname: 95, getpid: 0 });
  });

  it('no-new-privileges=false: the filter is loaded first, while CAP_SYS_ADMIN is still held', () => {
    const r = runChild(buildSecurityPlan(options({ noNewPrivileges: false })));
    expect(r.applyError).toBeNull();
    expect(r.status.NoNewPrivs).toBe('0');
    expect(r.status.Seccomp).toBe('2');
    expect(r.status.CapEff).toBe(hex(mask(DEFAULT_BITS)));
    expect(r.errnos.keyctl).toBe(EPERM);
  });

  it('--privileged: every capability the kernel knows (that this process holds), no filter', () => {
    const lastCap = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
    const r = runChild(buildSecurityPlan(options({ privileged: true })));
    expect(r.applyError).toBeNull();
    const all = hex(((1n << BigInt(lastCap + 1)) - 1n) & ownPermitted());
    expect(r.status.CapBnd).toBe(all);
    expect(r.status.CapEff).toBe(all);
    expect(r.status.CapInh).toBe(hex(0n));
    expect(r.status.Seccomp).toBe('0');
  });

  it('asking for a capability this process lacks fails before changing anything, naming it', () => {
    // A root that lacks one, on any host: CAP_SYS_MODULE dropped from the bounding set, so
    // the child's permitted set lacks it after exec (setpriv, util-linux: tests/setup.sh).
    const r = runChild(buildSecurityPlan(options({ capAdd: ['ALL'] })), undefined, ['setpriv', '--bounding-set=-sys_module', '--']);
    expect(r.applyError).toMatch(/capabilities not available to tsbox itself: CAP_\S*SYS_MODULE/);
    expect(r.status.Seccomp).toBe('0');
  });
});
