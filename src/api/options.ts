/**
 * The API's options, checked with zod before anything is created. A bad option rejects
 * with a UsageError (exit code 125) whose message is one line, as the CLI's are.
 */
import { Readable } from 'node:stream';
import { z, ZodError, type ZodTypeAny } from 'zod';
import { UsageError } from '../errors.js';
import { runOptionsSchema } from '../spec/schema.js';

const fd = z.number().int().min(0);
const outputMode = z.union([z.enum(['inherit', 'pipe', 'buffer', 'ignore']), fd], {
  errorMap: () => ({ message: "expected 'inherit', 'pipe', 'buffer', 'ignore' or an fd number" }),
});
const readable = z.custom<Readable>((v) => v instanceof Readable, { message: 'expected a Readable stream' });
const inputMode = z.union([z.enum(['inherit', 'ignore']), fd, readable], {
  errorMap: () => ({ message: "expected 'inherit', 'ignore', an fd number or a Readable stream (give a string or Buffer as `input`)" }),
});
const abortSignal = z.custom<AbortSignal>((v) => v instanceof AbortSignal, { message: 'expected an AbortSignal' });

/** What run() and exec() share: where the process's stdio goes, and when to stop it. */
const processIo = {
  /** The process's stdin; default 'ignore' (a CI job should not read the caller's terminal). */
  stdin: inputMode.default('ignore'),
  /** Text or bytes to feed to stdin, which is then closed. */
  input: z.union([z.string(), z.instanceof(Buffer)], { errorMap: () => ({ message: 'expected a string or a Buffer' }) }).optional(),
  stdout: outputMode.default('inherit'),
  stderr: outputMode.default('inherit'),
  /** What 'buffer' gives: strings (utf8, the default) or Buffers. */
  encoding: z.enum(['utf8', 'buffer']).default('utf8'),
  /** Milliseconds, from the call: then the container is killed (reason 'timeout'). */
  timeout: z.number().int().positive().optional(),
  /** Aborting kills the container (reason 'aborted'). */
  signal: abortSignal.optional(),
};

const noInputWithStdin = (o: { stdin: unknown; input?: unknown }) => o.input === undefined || o.stdin === 'ignore';

export const apiRunSchema = runOptionsSchema
  .omit({ stdin: true, stdout: true, stderr: true, detach: true, stats: true })
  .extend(processIo)
  .strict()
  .refine(noInputWithStdin, { message: 'give either `input` or `stdin`, not both', path: ['input'] })
  .refine((o) => !o.tty || (o.stdin === 'inherit' && o.stdout === 'inherit' && o.stderr === 'inherit' && o.input === undefined), {
    message: "a terminal (tty: true) is the caller's own: stdin, stdout and stderr must be 'inherit'",
    path: ['tty'],
  });

/** A detached container's output goes to its logs (see logs()): no stdio, timeout or terminal here. */
export const apiDetachedSchema = runOptionsSchema.omit({ stdin: true, stdout: true, stderr: true, detach: true, stats: true, tty: true }).strict();

const stateRoot = { root: z.string().min(1).optional() };
const logging = {
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('warn'),
  logFormat: z.enum(['json', 'pretty']).default('json'),
  debug: z.boolean().default(false),
};

export const apiExecSchema = z
  .object({
    ...stateRoot,
    ...logging,
    ...processIo,
    env: z.array(z.string()).default([]),
    workdir: z.string().optional(),
    user: z.string().optional(),
  })
  .strict()
  .refine(noInputWithStdin, { message: 'give either `input` or `stdin`, not both', path: ['input'] });

export const apiRootSchema = z.object(stateRoot).strict();
export const apiPsSchema = z.object({ ...stateRoot, all: z.boolean().default(false) }).strict();
export const apiStopSchema = z.object({ ...stateRoot, time: z.number().int().min(0).default(10) }).strict();
export const apiKillSchema = z.object({ ...stateRoot, signal: z.union([z.string().min(1), z.number().int().min(1).max(64)]).default('SIGKILL') }).strict();
export const apiRmSchema = z.object({ ...stateRoot, force: z.boolean().default(false) }).strict();
export const apiWaitSchema = z.object({ ...stateRoot, timeout: z.number().int().positive().optional() }).strict();
export const apiLogsSchema = z.object({ ...stateRoot, tail: z.number().int().min(0).optional(), encoding: z.enum(['utf8', 'buffer']).default('utf8') }).strict();
export const apiStatsSchema = z.object({ ...stateRoot, intervalMs: z.number().int().positive().default(500) }).strict();

export type ApiRunInput = z.input<typeof apiRunSchema>;
export type ApiRunParsed = z.output<typeof apiRunSchema>;
export type ApiDetachedInput = z.input<typeof apiDetachedSchema>;
export type ApiExecInput = z.input<typeof apiExecSchema>;

/** Parse `value` with `schema`; a failure is one line naming the function and the option. */
export function parseOptions<S extends ZodTypeAny>(fn: string, schema: S, value: unknown): z.output<S> {
  try {
    return schema.parse(value ?? {});
  } catch (err) {
    if (!(err instanceof ZodError)) throw err;
    const issue = err.issues[0]!;
    const what = issue.code === 'unrecognized_keys' ? `unknown option ${issue.keys.map((k) => `'${k}'`).join(', ')}`
      : issue.path.length > 0 ? `invalid option '${issue.path.join('.')}': ${issue.message}`
      : `invalid options: ${issue.message}`;
    throw new UsageError(what, { step: fn, hint: 'See docs/api.md.' });
  }
}

export type RootOptions = z.input<typeof apiRootSchema>;
export type PsOptions = z.input<typeof apiPsSchema>;
export type StopOptions = z.input<typeof apiStopSchema>;
export type KillOptions = z.input<typeof apiKillSchema>;
export type RmOptions = z.input<typeof apiRmSchema>;
export type WaitOptions = z.input<typeof apiWaitSchema>;
export type LogsOptions = z.input<typeof apiLogsSchema>;
export type StatsOptions = z.input<typeof apiStatsSchema>;
