/**
 * The cgroup manager against a real cgroup v2 with every controller, in a qemu VM (this
 * machine is hybrid: its cgroup2 has no controllers). One boot runs tests/vm/suite.sh, whose
 * cases record observations as JSON lines; the tests below judge them. Other cases added to
 * tests/vm/cases run in the same boot and are checked by the "every case" test.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { sharesToWeight } from '../../src/cgroups/index.js';
import { parseCpuStat } from '../../src/cgroups/stats.js';
import { runVmSuite, vmUnavailableReason, type VmRun } from '../vm/vm.js';

// tests/setup.sh installs what the VM needs, and the README runs the suite as root: a
// missing piece fails here, naming it, rather than skipping the limits tests unseen.
const unavailable = vmUnavailableReason();

const MiB = 1024 * 1024;

describe('cgroup v2 in a VM', () => {
  let run: VmRun;

  beforeAll(async () => {
    if (unavailable !== null) throw new Error(`cannot boot the cgroup v2 VM: ${unavailable}`);
    run = await runVmSuite({ timeoutS: 400 });
    const boot = observed<{ uptimeS: number }>('suite', 'boot');
    console.info(`cgroups-vm: VM run took ${(run.wallMs / 1000).toFixed(1)}s (guest boot to suite start ${boot.uptimeS}s)`);
  }, 450_000);

  /** The data of one observation; fails with the VM's output when it is missing or errored. */
  function observed<T>(caseName: string, name: string): T {
    const r = run.results.find((x) => x.case === caseName && x.name === name);
    if (!r) throw new Error(`no observation ${caseName}/${name} from the VM; its output:\n${run.output}`);
    const data = r.data as T & { error?: string };
    if (data && typeof data === 'object' && 'error' in data) throw new Error(`${caseName}/${name} failed in the VM: ${data.error}`);
    return data;
  }

  it('ran every case to a zero exit, and the harness exited 0', () => {
    const exits = run.results.filter((r) => r.name === 'exit');
    expect(exits.length, run.output).toBeGreaterThan(0);
    for (const e of exits) expect({ case: e.case, status: (e.data as { status: number }).status }).toEqual({ case: e.case, status: 0 });
    expect(run.results.filter((r) => r.name === 'fatal')).toEqual([]);
    expect(run.status, run.output).toBe(0);
  });

  it('stores every limit as the kernel reads it back', () => {
    const files = observed<{ path: string; values: Record<string, string>; rootSubtreeControl: string; parentSubtreeControl: string; parentProcs: string }>('cgroups', 'files');
    expect(files.path).toBe('/sys/fs/cgroup/tsbox/probe');
    expect(files.values).toEqual({
      'cpuset.cpus': '0',
      'cpu.weight': String(sharesToWeight(512)),
      'cpu.max': '50000 100000',
      'memory.low': String(16 * MiB),
      'memory.max': '67108864',
      'memory.swap.max': String(32 * MiB),
      'pids.max': '64',
    });
    for (const c of ['cpuset', 'cpu', 'memory', 'pids']) {
      expect(files.rootSubtreeControl.split(' ')).toContain(c);
      expect(files.parentSubtreeControl.split(' ')).toContain(c);
    }
    expect(files.parentProcs).toBe(''); // no internal processes in the parent group
  });

  it('counts the OOM kill of a memory hog, and memory never went above memory.max', () => {
    const oom = observed<{ exit: { signal: string | null }; oomKilled: boolean; events: string; stats: { oomKills: number; memoryPeakBytes: number | null } }>('cgroups', 'oom');
    expect(oom.exit.signal).toBe('SIGKILL');
    expect(oom.oomKilled).toBe(true);
    expect(oom.stats.oomKills).toBeGreaterThanOrEqual(1);
    expect(oom.events).toMatch(/^oom_kill [1-9]/m);
    expect(oom.stats.memoryPeakBytes).not.toBeNull();
    expect(oom.stats.memoryPeakBytes!).toBeLessThanOrEqual(64 * MiB);
  });

  it('measures CPU use and enforces --cpus 0.5 (the busy loop is throttled)', () => {
    const cpu = observed<{ exit: { code: number; ms: number }; before: string; after: string; stats: { cpuUserUs: number; cpuSystemUs: number } }>('cgroups', 'cpu');
    expect(cpu.exit.code).toBe(0);
    const usedUs = parseCpuStat(cpu.after).usageUs - parseCpuStat(cpu.before).usageUs;
    expect(usedUs).toBeGreaterThan(500_000);
    // Half a CPU for the wall time of the loop, plus a period's worth of slack.
    expect(usedUs).toBeLessThanOrEqual(cpu.exit.ms * 1000 * 0.5 + 100_000);
    const throttled = (text: string) => Number(/^nr_throttled (\d+)$/m.exec(text)?.[1] ?? NaN);
    expect(throttled(cpu.after)).toBeGreaterThan(throttled(cpu.before));
    expect(cpu.stats.cpuUserUs + cpu.stats.cpuSystemUs).toBeGreaterThanOrEqual(usedUs);
  });

  it('throttles writes with --device-write-bps (on a RAM disk)', () => {
    const device = observed<string>('cgroups', 'block-device');
    // brd ships with linux-image-amd64 (tests/vm/setup.sh): without it there is nothing to throttle.
    expect(device, `the brd module could not be loaded in the VM:\n${run.output}`).toBeTruthy();
    const io = observed<{ ioMax: string; exit: { code: number; ms: number }; stats: { ioWriteBytes: number } }>('cgroups', 'io');
    expect(io.ioMax).toMatch(/^1:0 rbps=max wbps=1048576 /);
    expect(io.exit.code).toBe(0);
    // 3 MiB at 1 MiB/s: the first slice may pass at once, the rest must wait.
    expect(io.exit.ms).toBeGreaterThanOrEqual(1800);
    expect(io.stats.ioWriteBytes).toBeGreaterThanOrEqual(3 * MiB);
  });

  it('enforces --pids-limit 64, and destroy kills a full group', () => {
    const pids = observed<{ refusedForks: number; current: number; exit: { signal: string | null; code: number | null }; destroyMs: number }>('cgroups', 'pids');
    expect(pids.refusedForks).toBeGreaterThanOrEqual(1);
    expect(pids.current).toBeLessThanOrEqual(64);
    expect(pids.current).toBeGreaterThan(32);
    // Either the shell gave up when its fork failed, or destroy killed it while it waited.
    expect(pids.exit.signal === 'SIGKILL' || (pids.exit.code ?? 0) !== 0).toBe(true);
    expect(pids.destroyMs).toBeLessThan(10_000);
  });

  it('leaves nothing under the parent group after destroy', () => {
    expect(observed<{ parentChildren: string[] }>('cgroups', 'after-destroy').parentChildren).toEqual([]);
  });

  describe('tsbox run with limits', () => {
    type Exit = { status: number; stderr: string };
    type Report = { exitCode: number; oomKilled: boolean; wallMs: number; cpuUserUs: number; cpuSystemUs: number; memoryPeakBytes: number | null };

    it('reports an OOM kill under --memory 64m: exit 137 and one line naming the limit', () => {
      const oom = observed<Exit>('run-limits', 'oom');
      expect(oom.status).toBe(137);
      expect(oom.stderr.trim()).toBe("tsbox: the container was killed by the kernel's OOM killer (memory limit 64m). Raise --memory, or make the job use less memory.");
    });

    it('stops a fork bomb under --pids-limit 64, and the machine stays responsive', () => {
      const bomb = observed<Exit>('run-limits', 'forkbomb');
      // The shell gives up when fork fails: the limit, not tsbox (125), ended it.
      expect(bomb.status).not.toBe(125);
      expect(bomb.stderr).toMatch(/can't fork|Resource temporarily unavailable/i);
      expect(observed<number>('run-limits', 'forkbomb-seconds')).toBeLessThan(30);
    });

    it('holds a busy loop to half a CPU under --cpus 0.5 (50% +-10%)', () => {
      // "uptime0 uptime1 usage0 usage1", read inside the container around the 3 s loop.
      const [up0, up1, u0, u1] = observed<string>('run-limits', 'cpu').trim().split(' ').map(Number) as [number, number, number, number];
      const share = (u1 - u0) / 1e6 / (up1 - up0);
      expect(share).toBeGreaterThan(0.4);
      expect(share).toBeLessThan(0.6);
    });

    it('applies memory.swap.max and cpuset, seen from inside the container\'s own cgroup namespace', () => {
      const inside = observed<string>('run-limits', 'inside').split('\n');
      expect(inside).toContain('0::/');
      expect(inside).toContain(String(64 * MiB));
      expect(inside).toContain(String(32 * MiB));
      expect(inside[inside.length - 1]).toBe('0');
    });

    it('reports a plausible peak memory for a 100 MiB allocation', () => {
      const mem = observed<Report>('run-limits', 'memory');
      expect(mem.exitCode).toBe(0);
      expect(mem.memoryPeakBytes).not.toBeNull();
      expect(mem.memoryPeakBytes!).toBeGreaterThanOrEqual(100 * MiB);
    });

    it('leaves no cgroup behind', () => {
      expect(observed<string>('run-limits', 'cgroups-left').trim()).toBe('');
    });
  });

  it('the API resolves an OOM-killed run with reason "oom" (tests/vm/cases/api-oom.sh)', () => {
    const out = observed<string>('api', 'oom');
    const r = JSON.parse(out) as { reason: string; exitCode: number; signal: string | null; oomKilled: boolean; oomKills: number | null };
    expect(r).toMatchObject({ reason: 'oom', exitCode: 137, signal: 'SIGKILL', oomKilled: true });
    expect(r.oomKills).toBeGreaterThanOrEqual(1);
  });
});
