/**
 * Build time only (cli/main.ts prepareCodeCache, called by scripts/bundle.mjs): run the
 * pure part of a default `tsbox run` once, so that V8's code cache, written right after,
 * holds the compiled code of every function it calls.
 *
 * Why: V8 compiles a function when it is first called, and a code cache made after only
 * loading the bundle holds module top-levels and little else. Each `tsbox run` then
 * compiled commander's parsing, the flag table, zod's run-options schema, the seccomp
 * compiler, the mount planner and the device program anew (measured: a cache made after a
 * real run saved ~18 ms of CPU per run here). Nothing here touches the system: the run's
 * action is replaced, the spec and plans are built and dropped.
 */
import { buildProgram } from './program.js';
import { runCommand } from './commands/run.js';
import { buildRunSpec } from '../spec/run-spec.js';
import { flagsToRunOptions } from './run-flags.js';
import { planMounts } from '../mounts/plan.js';
import { compileDeviceProgram } from '../devices/program.js';
import { DEFAULT_DEVICE_RULES } from '../devices/rules.js';
import { encodeEbpf } from '../security/ebpf.js';

export async function warmUpRunPath(): Promise<void> {
  buildProgram();
  // A run command of its own, without the program's hooks: the state-root check would
  // refuse a build made without root, and this needs no state root.
  const run = runCommand().exitOverride();
  let built = false;
  run.action(async (rootfs: string, command: string[], flags: Record<string, unknown>) => {
    // As commands/run.ts builds the spec of a foreground run (no volumes, no tty).
    const spec = await buildRunSpec({ ...flagsToRunOptions(flags), rootfs, command, volumes: [], tty: false }, {}, { id: '0'.repeat(64) });
    planMounts({
      etcFiles: { hostname: '/x/hostname', hosts: '/x/hosts', resolvConf: '/x/resolv.conf' },
      volumes: spec.volumes,
      tmpfs: spec.tmpfs,
      baseTmpfs: spec.readOnlyTmpfs,
      cgroup2: true,
      privileged: false,
      hostDevices: [],
      staticInit: null,
      devices: spec.devices.nodes,
    });
    JSON.stringify(spec);
    built = true;
  });
  await run.parseAsync(['/nonexistent/rootfs.tar', '/bin/true'], { from: 'user' });
  if (!built) throw new Error('code cache warm-up: the run action did not run');
  encodeEbpf(compileDeviceProgram(DEFAULT_DEVICE_RULES));
}
