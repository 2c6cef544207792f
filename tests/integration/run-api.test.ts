/**
 * The programmatic API (`import { run } from 'tsbox'`) and the runtime's logs.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { rootfsTar, testRoot, tsbox } from '../helpers/tsbox.js';

const exec = promisify(execFile);
const apiEntry = fileURLToPath(new URL('../../dist/index.js', import.meta.url));

describe('programmatic API', () => {
  it('runs a container and resolves with its exit status', async () => {
    const script = `
      const { run } = await import(${JSON.stringify(apiEntry)});
      const ok = await run({ rootfs: ${JSON.stringify(rootfsTar())}, command: ['/bin/sh', '-c', 'exit 3'], root: ${JSON.stringify(testRoot())}, stdout: 'ignore' });
      let bad;
      try { await run({ rootfs: '/no/such.tar', root: ${JSON.stringify(testRoot())} }); } catch (e) { bad = { name: e.name, exitCode: e.exitCode, step: e.step, message: e.message }; }
      let invalid;
      try { await run({ rootfs: ${JSON.stringify(rootfsTar())}, hostname: 'not valid!' }); } catch (e) { invalid = { name: e.name, exitCode: e.exitCode }; }
      console.log(JSON.stringify({ exitCode: ok.exitCode, signal: ok.signal, id: ok.id, oomKilled: ok.oomKilled, bad, invalid }));
    `;
    const { stdout } = await exec(process.execPath, ['--input-type=module', '-e', script]);
    const out = JSON.parse(stdout);
    expect(out.exitCode).toBe(3);
    expect(out.signal).toBeNull();
    expect(out.oomKilled).toBe(false);
    expect(out.id).toMatch(/^[0-9a-f]{64}$/);
    expect(out.bad).toMatchObject({ exitCode: 125, step: 'prepare rootfs' });
    expect(out.invalid).toEqual({ name: 'UsageError', exitCode: 125 });
  });
});

describe('logs', () => {
  it('--debug logs each setup step with its syscalls, as JSON on stderr', async () => {
    const r = await tsbox(['run', '--debug', rootfsTar(), 'true']);
    expect(r.code).toBe(0);
    const lines = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; step?: string; level: number });
    const msgs = lines.map((l) => l.msg).join('\n');
    expect(msgs).toMatch(/prepare rootfs/);
    expect(msgs).toMatch(/create cgroup/);
    expect(msgs).toMatch(/^mount\(overlay on .* type overlay/m);
    expect(msgs).toMatch(/^pivot_root\(\., \.\) = 0/m);
    expect(msgs).toMatch(/^sethostname\(/m);
    expect(lines.find((l) => l.msg === 'run spec')).toBeDefined();
  });

  it('is silent at the default level, and pretty with --log-format pretty', async () => {
    expect((await tsbox(['run', rootfsTar(), 'true'])).stderr).toBe('');
    const pretty = await tsbox(['run', '--log-level', 'debug', '--log-format', 'pretty', rootfsTar(), 'true']);
    expect(pretty.stderr).toMatch(/DEBUG.*prepare rootfs/);
  });
});
