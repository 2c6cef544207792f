/**
 * How a TypeScript user sees the API: type-checked against the built declarations
 * (dist/index.d.ts, through the package's own name) by tests/integration/api-types.test.ts.
 * Never run. Each @ts-expect-error must be an error, or tsc fails.
 */
import { PassThrough } from 'node:stream';
import { exec, inspect, kill, logs, ps, rm, run, runDetached, stats, stop, TsboxError, UsageError, wait } from 'tsbox';
import type { ContainerRecord, EndReason, ExecResult, RunOptions, RunProcess, RunResult, StatsRow } from 'tsbox';

export async function usage(): Promise<void> {
  const options: RunOptions = { rootfs: 'busybox.tar', command: ['true'], stdin: new PassThrough(), stdout: 'pipe', stderr: 2, timeout: 1000, signal: new AbortController().signal };
  const c: RunProcess = run(options);
  c.stdout?.on('data', (chunk: Buffer) => chunk.length);
  const id: string = c.id;
  const r: RunResult = await c;
  const reason: EndReason = r.reason;
  const text: string | null = r.stdout;
  const again: RunResult = await c.result;
  const bytes = await run({ rootfs: 'busybox.tar', stdout: 'buffer', encoding: 'buffer' });
  const buf: Buffer | null = bytes.stdout;
  const ran: ExecResult = await exec('web', ['ls'], { stdout: 'buffer', input: 'x' });
  const records: ContainerRecord[] = await ps({ all: true });
  const details = await inspect('web');
  const hostname: string | undefined = details.spec?.hostname;
  const out: string = (await logs('web', { tail: 5 })).stdout;
  const raw: Buffer = (await logs('web', { encoding: 'buffer' })).stdout;
  const ended: ContainerRecord | null = await wait('web', { timeout: 10 });
  const stopped: ContainerRecord = await stop('web', { time: 1 });
  await kill('web', { signal: 'TERM' });
  await rm('web', { force: true });
  const rows: StatsRow[] = await stats(['web']);
  const started: { id: string; pid: number } = await runDetached({ rootfs: 'busybox.tar', name: 'web' });
  const failure: TsboxError = new UsageError('x');
  const step: string | undefined = failure.step;
  void [id, reason, text, again, buf, ran, records, hostname, out, raw, ended, stopped, rows, started, step];

  // @ts-expect-error: not an option
  run({ rootfs: 'busybox.tar', colour: 'blue' });
  // @ts-expect-error: stdout takes no file names
  run({ rootfs: 'busybox.tar', stdout: 'out.txt' });
  // @ts-expect-error: text for stdin is `input`
  run({ rootfs: 'busybox.tar', stdin: 'hello' });
  // @ts-expect-error: rootfs is required
  run({ command: ['true'] });
  // @ts-expect-error: a detached container has no stdio of the caller's
  void runDetached({ rootfs: 'busybox.tar', stdout: 'pipe' });
  // @ts-expect-error: an utf8 result's output is a string
  const wrong: Buffer | null = (await run({ rootfs: 'busybox.tar', stdout: 'buffer' })).stdout;
  void wrong;
}
