/**
 * The two ways an init (the container's, or `tsbox exec`'s) leaves: it becomes the
 * command through execve, or it reports the failed step to the parent and exits with
 * the status that goes with it. Shared so that both give the same statuses and messages.
 */
import { asTsboxError, TsboxError } from '../errors.js';
import { execve, resetSignalsForExec } from '../sys/process.js';
import { SysError } from '../sys/sys-error.js';
import { execErrorExitCode } from './command.js';

/** Replace this process with the command; only returns by throwing (126/127 by errno). */
export function execCommand(path: string, args: string[], env: string[]): never {
  try {
    resetSignalsForExec();
    return execve(path, args, env);
  } catch (err) {
    throw cannotExecute(path, err);
  }
}

/** execve's or posix_spawn's failure as the command's: 126 or 127 by errno, as docker. */
export function cannotExecute(path: string, err: unknown): unknown {
  if (!(err instanceof SysError)) return err;
  return new TsboxError(`cannot execute ${path}: ${err.code === 'ENOENT' ? 'no such file or directory (or its interpreter is missing)' : err.message}`, {
    exitCode: execErrorExitCode(err.code),
  });
}

interface ErrorSink {
  send(message: { t: 'error'; step: string | undefined; message: string; hint: string | undefined; exitCode: number }): void;
}

/** Tell the parent which step failed and how, then exit with the error's status. */
export function reportAndExit(channel: ErrorSink, err: unknown, step: string): never {
  const e = asTsboxError(err).inStep(step);
  try {
    channel.send({ t: 'error', step: e.step, message: e.message, hint: e.hint, exitCode: e.exitCode });
  } catch {
    // The parent is gone; nobody is left to tell.
  }
  process.exit(e.exitCode);
}
