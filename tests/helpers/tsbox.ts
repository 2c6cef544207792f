/**
 * Running the built CLI (bin/tsbox) as a user would, with a timeout, against the test
 * suite's own state root, so that tests never touch /var/lib/tsbox.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

export const TSBOX_BIN = fileURLToPath(new URL('../../bin/tsbox', import.meta.url));

export interface TsboxResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface TsboxRunOptions {
  input?: string | Buffer;
  timeoutMs?: number;
  env?: Record<string, string>;
  root?: string;
  /** Called with the child once started (to send signals, kill it...). */
  onSpawn?: (child: import('node:child_process').ChildProcess) => void;
}

export function testRoot(): string {
  return inject('tsboxRoot');
}

export function rootfsTar(): string {
  return inject('rootfsTar');
}

export function tsbox(args: string[], opts: TsboxRunOptions = {}): Promise<TsboxResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSBOX_BIN, args, {
      env: { ...process.env, TSBOX_ROOT: opts.root ?? testRoot(), ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tsbox ${args.join(' ')} timed out after ${opts.timeoutMs ?? 30_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on('error', () => {}); // the container may exit without reading its input
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
    opts.onSpawn?.(child);
  });
}

/** Run a shell snippet in a busybox container. */
export function sh(script: string, extraArgs: string[] = [], opts: TsboxRunOptions = {}): Promise<TsboxResult> {
  return tsbox(['run', ...extraArgs, rootfsTar(), '/bin/sh', '-c', script], opts);
}

declare module 'vitest' {
  export interface ProvidedContext {
    tsboxRoot: string;
    rootfsTar: string;
    workDir: string;
    hostStateBefore: import('./host-state.js').HostState;
  }
}
