/**
 * Run src/image in child processes: the sources are TypeScript, so the worker is bundled
 * once with esbuild into a temp dir (with node_modules linked for koffi and friends).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const project = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '../..');

export interface Bundled {
  script: string;
  cleanup(): void;
}

export async function bundleImageWorker(): Promise<Bundled> {
  const dir = mkdtempSync(join(tmpdir(), 'tsbox-image-worker-'));
  symlinkSync(join(project, 'node_modules'), join(dir, 'node_modules'));
  const script = join(dir, 'worker.mjs');
  await build({
    entryPoints: [join(project, 'tests/helpers/image-worker.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outfile: script,
    logLevel: 'warning',
  });
  return { script, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface WorkerResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The parsed JSON line. */
  result: { treeDir?: string; digest?: string | null; source?: string; error?: string; step?: string | null; name?: string };
}

export interface WorkerRun {
  child: ChildProcess;
  done: Promise<WorkerResult>;
}

export function startImageWorker(script: string, args: string[], opts: { noOpenat2?: boolean } = {}): WorkerRun {
  const child = spawn(process.execPath, [script, ...(opts.noOpenat2 ? ['--no-openat2'] : []), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<WorkerResult>((resolveDone) => {
    child.on('close', (code, signal) => {
      let result = {};
      try {
        result = JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
      } catch {
        // no result line (killed)
      }
      resolveDone({ code, signal, stdout, stderr, result });
    });
  });
  return { child, done };
}

export async function runImageWorker(script: string, args: string[], opts: { noOpenat2?: boolean; input?: Buffer } = {}): Promise<WorkerResult> {
  const run = startImageWorker(script, args, opts);
  if (opts.input) run.child.stdin!.end(opts.input);
  else run.child.stdin!.end();
  return run.done;
}
