/**
 * tsbox-runtime's entry (bin/tsbox-runtime, dist/runtime-quick.cjs): the engine's small
 * calls (state, start, kill, delete, pause, resume: quick-args.ts) are answered from this
 * bundle; any other call loads the full program (dist/runtime.cjs, main.ts) in the same
 * process and hands it the command line untouched.
 *
 * Why: podman makes three runtime calls per `run --rm` (create, start, delete) and each is
 * a fresh Node process. The full program carries commander, zod and the config.json
 * translator, ~300 KB whose code cache alone is ~260 KB to read and deserialize at every
 * call, for calls that read one small record and send a signal. This bundle carries only
 * the record, the status, the lifecycle and the log.
 *
 * The behaviour is the full program's: the same functions (lifecycle.ts, info.ts's
 * stateJson), the same log, errors rendered once the same way, the same exit statuses.
 */
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
import { asTsboxError, UsageError } from '../../errors.js';
import { loadProgram } from '../../boot/programs.js';
import { deleteContainer, killContainer, setFrozen, startContainer } from './lifecycle.js';
import { parseQuickArgs, type QuickCall } from './quick-args.js';
import { openRuntimeLog, type RuntimeLog } from './runtime-log.js';
import { parseSignal } from './signal-arg.js';
import { StateRoot } from './state-dir.js';
import { stateJson } from './status.js';

export async function start(): Promise<void> {
  const call = parseQuickArgs(process.argv.slice(2));
  if (call === null) {
    // Everything else: the full command line, from its own bundle beside this one.
    await loadProgram(dirname(fileURLToPath(import.meta.url)), 'runtime').exports.start();
    return;
  }
  let log: RuntimeLog | undefined;
  try {
    log = openRuntimeLog(call.global.log, call.global.logFormat, call.global.debug);
    // program.ts's ctx(): the same refusal, before anything else.
    if (call.global.systemdCgroup || call.global.cgroupManager === 'systemd') {
      throw new UsageError('the systemd cgroup manager is not supported', { step: 'cgroup', hint: 'Use the cgroupfs manager (podman --cgroup-manager cgroupfs; containerd SystemdCgroup = false).' });
    }
    await run(call, new StateRoot(call.global.root), log);
  } catch (err) {
    (log ?? openRuntimeLog(undefined, 'text', false)).failure(err);
    process.exit(asTsboxError(err).exitCode);
  }
  // As main.ts: nothing of ours may wait (a created container's init is not our child here, but
  // a hook's leftover pipe could be).
  process.exit(0);
}

async function run(call: QuickCall, state: StateRoot, log: RuntimeLog): Promise<void> {
  switch (call.command) {
    case 'start':
      return startContainer(state, call.id, log);
    case 'state':
      process.stdout.write(`${stateJson(state, call.id)}\n`);
      return;
    case 'kill':
      return killContainer(state, call.id, parseSignal(call.signal), call.all);
    case 'delete':
      return deleteContainer(state, call.id, call.force, log);
    case 'pause':
    case 'resume':
      return setFrozen(state, call.id, call.command === 'pause');
  }
}
