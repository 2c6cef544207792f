/**
 * The pure planners load no FFI: each is imported alone in a fresh Node process, which then
 * says whether koffi was loaded (its module in the require cache, or its native library
 * mapped). Sources are TypeScript, so each module is bundled first with esbuild, keeping
 * packages external (koffi is then loaded, or not, exactly as in the real program).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const project = resolve(import.meta.dirname, '../..');

/**
 * Decide, plan, parse: no syscalls. (spec/run-spec.ts is not here: it builds the spec with
 * the state store's stateDirFor, in runtime/state/store.ts, which takes a flock through sys/fd.)
 */
const PURE = [
  'spec/schema', 'spec/parse', 'spec/ulimit', 'spec/sysctl', 'spec/process-settings', 'init/process-settings', 'init/sysctl', 'spec/labels', 'spec/log-opts', 'spec/units', 'spec/read-only-tmpfs',
  'cli/run-flags', 'cli/run-argv', 'cli/tty-choice', 'cli/host-paths',
  'mounts/plan', 'mounts/bind', 'mounts/etc-files', 'fs/in-root/walk', 'fs/in-root/resolver',
  'security/plan', 'security/capabilities', 'security/security-opt', 'security/seccomp-compile', 'security/seccomp-profile',
  'security/seccomp-default', 'security/docker-profile', 'security/bpf', 'security/bpf-builder', 'security/ebpf', 'security/apply-steps',
  'cgroups/limits', 'cgroups/plan', 'cgroups/stats', 'cgroups/mountinfo', 'cgroups/availability', 'cgroups/cpu', 'cgroups/size',
  'image/entry-plan', 'image/entry-path', 'image/host-rootfs-plan', 'image/tar-header', 'image/tar-reader', 'image/pax', 'image/archive-format',
  'devices/policy', 'devices/rules', 'devices/program', 'devices/device-flag',
  'namespaces/modes', 'namespaces/placement', 'namespaces/ns-pid',
  'registry/reference', 'registry/manifest', 'registry/media-types', 'registry/digest', 'registry/www-authenticate', 'registry/tls-policy', 'registry/credentials', 'registry/resolve', 'registry/session',
  'oci/spec/index', 'oci/runtime/config-adapter', 'oci/runtime/signal-arg',
  'sys/mount-flags', 'sys/fs-flags', 'sys/process-flags', 'sys/security-flags', 'sys/rlimit-flags', 'sys/bpf-constants', 'sys/errno', 'sys/sys-error',
  'explain/format-call', 'explain/steps', 'explain/render',
];

/** The control: a module that loads koffi must be caught. */
const LOADS_KOFFI = 'sys/libc';

const PROBE = `
  import { createRequire } from 'node:module';
  import { readFileSync } from 'node:fs';
  await import(process.argv[1]);
  const cached = Object.keys(createRequire(import.meta.url).cache).some((p) => p.includes('/koffi/'));
  const mapped = readFileSync('/proc/self/maps', 'utf8').includes('koffi');
  process.stdout.write(JSON.stringify(cached || mapped));
`;

let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tsbox-pure-'));
  symlinkSync(join(project, 'node_modules'), join(dir, 'node_modules'));
  await build({
    entryPoints: Object.fromEntries([...PURE, LOADS_KOFFI].map((m) => [m, join(project, 'src', `${m}.ts`)])),
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outdir: dir,
    outExtension: { '.js': '.mjs' },
    logLevel: 'warning',
  });
}, 60_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function loadsKoffi(module: string): Promise<boolean> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', PROBE, join(dir, `${module}.mjs`)], { cwd: dir });
  return JSON.parse(stdout) as boolean;
}

describe('pure modules', () => {
  it('the probe sees koffi loaded by src/sys/libc.ts', async () => {
    expect(await loadsKoffi(LOADS_KOFFI)).toBe(true);
  });

  it.concurrent.each(PURE)('%s loads no koffi', async (module) => {
    expect(await loadsKoffi(module)).toBe(false);
  });
});
