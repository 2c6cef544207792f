/**
 * Host side of the VM harness, for vitest files: is a VM possible here, bundle the node
 * probes, boot once running the suite, and read back the JSON-line results.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const VM_DIR = dirname(fileURLToPath(import.meta.url));

export interface VmResult {
  case: string;
  name: string;
  data: unknown;
}

export interface VmRun {
  status: number | null;
  /** The suite's stdout and stderr, then the harness's own lines. */
  output: string;
  results: VmResult[];
  wallMs: number;
}

/** Why a VM cannot run here, or null when it can. Only a truly missing piece is a reason. */
export function vmUnavailableReason(): string | null {
  if (process.getuid?.() !== 0) return 'the VM harness needs root (it shares the host root read-only over 9p)';
  if (spawnSync('qemu-system-x86_64', ['--version']).status !== 0) return 'qemu-system-x86_64 is not installed (tests/vm/setup.sh installs it)';
  if (!readdirSync('/boot').some((f) => f.startsWith('vmlinuz-6.1'))) return 'no /boot/vmlinuz-6.1* kernel (tests/vm/setup.sh installs linux-image-amd64)';
  return null;
}

/** Bundle every tests/vm/<name>-probe.ts into dir/<name>-probe.mjs (the VM has no TypeScript loader). */
export async function bundleProbes(dir: string): Promise<string[]> {
  const probes = readdirSync(VM_DIR).filter((f) => f.endsWith('-probe.ts'));
  await Promise.all(
    probes.map((f) =>
      build({ entryPoints: [join(VM_DIR, f)], outfile: join(dir, f.replace(/\.ts$/, '.mjs')), bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'error' }),
    ),
  );
  return probes;
}

/** Boot once, run tests/vm/suite.sh over the named cases (default: all), return what came back. */
export async function runVmSuite(opts: { cases?: string[]; timeoutS?: number } = {}): Promise<VmRun> {
  const work = mkdtempSync(join(tmpdir(), 'tsbox-vm-run-'));
  try {
    const input = join(work, 'input');
    const results = join(work, 'results');
    await bundleProbes(input);
    const started = performance.now();
    const args = ['--timeout', String(opts.timeoutS ?? 300), join(VM_DIR, 'suite.sh'), join(VM_DIR, 'cases'), ...(opts.cases ?? [])];
    const child = spawn(join(VM_DIR, 'run-in-vm.sh'), args, {
      env: { ...process.env, TSBOX_VM_INPUT: input, TSBOX_VM_RESULTS: results },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const status = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const file = join(results, 'results.jsonl');
    const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
    return { status, output, results: lines.map((l) => JSON.parse(l) as VmResult), wallMs: performance.now() - started };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
