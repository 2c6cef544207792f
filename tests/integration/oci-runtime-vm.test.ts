/**
 * tsbox-runtime's limits on a real cgroup v2 with every controller (the qemu VM: this host is
 * hybrid). The case tests/vm/cases/oci-runtime.sh creates a container from a config.json with
 * podman-shaped v1 resources (memory limit, pids limit, cpu shares/quota/period) and records
 * what the kernel stores; update's new values; nothing left after delete.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { sharesToWeight } from '../../src/cgroups/index.js';
import { runVmSuite, vmUnavailableReason, type VmRun } from '../vm/vm.js';

const unavailable = vmUnavailableReason();

describe('tsbox-runtime on cgroup v2 (VM)', () => {
  let run: VmRun;
  beforeAll(async () => {
    if (unavailable !== null) throw new Error(`cannot boot the cgroup v2 VM: ${unavailable}`);
    run = await runVmSuite({ cases: ['oci-runtime'], timeoutS: 300 });
  }, 400_000);

  const observed = <T>(name: string): T => {
    const r = run.results.find((x) => x.case === 'oci-runtime' && x.name === name);
    if (!r) throw new Error(`no observation oci-runtime/${name}; the VM's output:\n${run.output}`);
    return r.data as T;
  };

  it('create applies config.json\'s v1-shaped resources as cgroup v2 values, with the init inside', () => {
    expect(observed<{ status: number; stderr: string }>('create')).toEqual({ status: 0, stderr: '' });
    const files = observed<Record<string, string>>('files');
    expect(files).toMatchObject({ 'memory.max': '67108864', 'pids.max': '64', 'cpu.max': '50000 100000', 'cpu.weight': String(sharesToWeight(512)) });
    expect(files.procs.split('\n')).toContain(files.pid);
  });

  it('update --resources - writes the new limits', () => {
    expect(observed('update')).toEqual({ status: 0, stderr: '', 'pids.max': '32', 'memory.max': '33554432' });
  });

  it('delete --force leaves no group (its parent, made by create, included) and no state', () => {
    expect(observed('delete')).toEqual({ status: 0, stderr: '', left: '' });
  });
});
