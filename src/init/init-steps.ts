/**
 * The start both inits share (the container's and `tsbox exec`'s), and the step runner
 * that names the failing step to the parent.
 */
import { useOpenat2 } from '../sys/fs.js';
import { recordSyscalls } from '../sys/libc.js';
import { PR, prctl } from '../sys/process.js';
import { InitChannel } from './channel.js';
import { reportAndExit } from './handover.js';
import { SYNC_FD } from './protocol.js';
import { traceToParent } from './trace.js';

const SIGKILL = 9;

/** What both plans carry for the start (init/protocol.ts, init/exec-protocol.ts). */
interface PlanStart {
  debug: boolean;
  openat2?: boolean;
}

export class InitSteps {
  readonly channel = new InitChannel(SYNC_FD);
  /** The step an error is reported in. */
  current: string;

  constructor(first: string) {
    this.current = first;
  }

  step<T>(name: string, fn: () => T): T {
    this.current = name;
    return fn();
  }

  /**
   * Made safe, said alive, given the plan. Non-dumpable first (CVE-2019-5736): until it
   * execs or spawns the command an init is the host's node binary, as root; its
   * /proc/PID/exe, fd/ and mem stay out of reach of every process of the container. And it
   * dies with its parent (even by SIGKILL): the container's init takes the container with it.
   */
  begin<P extends PlanStart>(readPlan: (channel: InitChannel) => P): P {
    // Whether we are traced is in the plan: the calls before it are kept until then.
    const earlyCalls = recordSyscalls();
    prctl(PR.SET_DUMPABLE, 0);
    prctl(PR.SET_PDEATHSIG, SIGKILL);
    this.channel.send({ t: 'ready' });
    const plan = readPlan(this.channel);
    useOpenat2(plan.openat2 !== false);
    const early = earlyCalls();
    if (plan.debug) traceToParent(this.channel, () => this.current, early, this.current);
    return plan;
  }

  /** Tell the parent which step failed and how, then exit with the error's status. */
  fail(err: unknown): never {
    reportAndExit(this.channel, err, this.current);
  }
}
