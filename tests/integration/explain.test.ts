/**
 * --explain (issue 15): what it names is what --debug traced in the same run, it writes on
 * stderr only, and its text is never part of the programs a normal run loads.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { STEP_TEXTS } from '../../src/explain/steps.js';
import { rootfsTar, sh, tsbox } from '../helpers/tsbox.js';
import { CALL_LINE, splitExplainJson } from '../helpers/explain.js';

/** A traced call line (explain/format-call.ts formatCall). */
const CALL = CALL_LINE;

const split = splitExplainJson;

const sorted = (xs: string[]) => [...xs].sort();

describe('tsbox run --explain', () => {
  it('names exactly the system calls --debug traced in the same run, with symbolic flags', async () => {
    const r = await tsbox(['run', '--debug', '--explain=json', rootfsTar(), 'echo', 'out']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('out\n');
    const { debug, explained } = split(r.stderr);
    const traced = debug.map((l) => l.msg).filter((m) => CALL.test(m));
    const named = explained.flatMap((s) => s.calls);
    // Not one call more, not one less, not one argument different.
    expect(sorted(named)).toEqual(sorted(traced));
    expect(named.length).toBeGreaterThan(50);
    // The calls that make the namespaces are among them, and the init's first prctls.
    const spawn = explained.find((s) => s.step === 'spawn init')!;
    expect(spawn.calls).toContain('unshare(CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWPID|CLONE_NEWNET) = 0');
    expect(named).toContain('prctl(PR_SET_PDEATHSIG, SIGKILL) = 0');
    expect(named).toContain('prctl(PR_SET_DUMPABLE, 0) = 0');
    expect(named).toContain('prctl(PR_CAPBSET_DROP, CAP_SYS_ADMIN) = 0');
    expect(named).toContain('unshare(CLONE_NEWCGROUP) = 0');
    expect(named.some((c) => /^capset\(.*effective: CAP_CHOWN\|/.test(c))).toBe(true);
    expect(named.some((c) => /^seccomp\(SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, \{len: \d+\}\) = 0$/.test(c))).toBe(true);
    // No raw numbers where a flag has a name.
    expect(named.filter((c) => /^(unshare|prctl)\([^)]*0x/.test(c))).toEqual([]);
  });

  it('explains each step, with figures read from the host and the container', async () => {
    const r = await tsbox(['run', '--explain=json', rootfsTar(), 'true']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    const explained = split(r.stderr).explained;
    const by = (step: string) => explained.find((s) => s.step === step)!;
    // Every step --explain shows, in the order of a run, has its sentence (families once).
    for (const step of ['spawn init', 'create cgroup', 'unshare cgroup namespace', 'mount rootfs', 'pivot_root', 'set hostname', 'apply security', 'cleanup']) {
      expect(by(step)?.explain, step).toMatch(/\w/);
    }
    // The namespaces: new ones for the container, with the host's process count.
    const ns = by('spawn init').figures.namespaces as Record<string, { host: string; container: string }>;
    for (const name of ['mnt', 'uts', 'ipc', 'net', 'pid']) expect(ns[name]!.container, name).not.toBe(ns[name]!.host);
    expect(by('spawn init').without).toMatch(/without CLONE_NEWPID the container would see the host's \d+ processes.*your command is PID 1/);
    // After the cgroup namespace, the cgroup one is new too.
    const cg = by('unshare cgroup namespace').figures.namespaces as Record<string, { host: string; container: string }>;
    expect(cg.cgroup!.container).not.toBe(cg.cgroup!.host);
    // The mount table the container sees after pivot_root: its overlay root and its own /proc.
    const after = by('pivot_root').figures.mountsAfter as string[];
    expect(after[0]).toBe('/ (overlay)');
    expect(after).toContain('/proc (proc)');
    // seccomp: how many rules, and the default action.
    expect(by('apply security').explain).toMatch(/seccomp filter: \d+ rules .* default action, errno\(1\)/);
    // A group without controllers limits nothing: --explain says so (and only then).
    const cgroup = by('create cgroup').figures;
    if (Array.isArray(cgroup.controllers) && cgroup.controllers.length === 0) expect(cgroup.noLimit).toMatch(/^no limit applies to this container/);
    else expect(cgroup.noLimit).toBeUndefined();
  });

  it('is text on stderr, uncoloured when stderr is not a terminal, and leaves stdout alone', async () => {
    const r = await sh('echo out', ['--explain']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toMatch(/^▸ spawn init$/m);
    expect(r.stderr).toMatch(/^ {4}unshare\(CLONE_NEWNS\|CLONE_NEWUTS\|CLONE_NEWIPC\|CLONE_NEWPID\|CLONE_NEWNET\) = 0$/m);
    expect(r.stderr).toMatch(/^ {2}Without CLONE_NEWPID the container would see the host's \d+ processes/m);
    expect(r.stderr).not.toMatch(/\x1b\[/);
  });

  it('a failing run: the steps up to the failure are explained, and the error stays the last line', async () => {
    const r = await tsbox(['run', '--explain', rootfsTar(), 'no-such-command']);
    expect(r.code).toBe(127);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines.at(-1)).toMatch(/^tsbox: find command: no-such-command: command not found/);
    expect(lines.filter((l) => l.startsWith('tsbox: '))).toHaveLength(1);
    expect(r.stderr).toMatch(/^▸ cleanup$/m);
  });

  it('--explain as the last option before ROOTFS does not take ROOTFS as its value', async () => {
    const r = await tsbox(['run', '--explain', rootfsTar(), 'true']);
    expect(r.code, r.stderr).toBe(0);
  });

  it('without --explain or --debug a run prints nothing on stderr', async () => {
    const r = await tsbox(['run', rootfsTar(), 'true']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
  });
});

describe('tsbox create, start and run -d with --explain', () => {
  it('create explains the setup up to the held init, start the rest; stdout keeps only the id', async () => {
    const name = `explain-create-${process.pid}`;
    const c = await tsbox(['create', '--explain=json', '--name', name, rootfsTar(), 'true']);
    try {
      expect(c.code, c.stderr).toBe(0);
      expect(c.stdout).toMatch(/^[0-9a-f]{64}\n$/);
      const created = split(c.stderr).explained;
      expect(created.find((s) => s.step === 'spawn init')?.calls[0]).toMatch(/^unshare\(CLONE_NEWNS\|/);
      expect(created.find((s) => s.step === 'pivot_root')?.calls).toContain('pivot_root(".", ".") = 0');
      expect(created.some((s) => s.step === 'exec')).toBe(false); // held: nothing of the command yet
      const s = await tsbox(['start', '--explain=json', name]);
      expect(s.code, s.stderr).toBe(0);
      expect(s.stdout).toBe(`${name}\n`);
      const started = split(s.stderr).explained;
      expect(started.find((x) => x.step === 'exec')?.calls).toContain('close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) = 0');
    } finally {
      await tsbox(['rm', '-f', name]);
    }
  });

  it("run -d that fails in setup: the monitor's explanation is shown (its log is gone by then), the error line last", async () => {
    const r = await tsbox(['run', '-d', '--explain', rootfsTar(), 'no-such-command']);
    expect(r.code).toBe(127);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^▸ pivot_root$/m);
    expect(r.stderr).toMatch(/^ {4}pivot_root\("\.", "\."\) = 0$/m);
    expect(r.stderr.trimEnd().split('\n').at(-1)).toMatch(/^tsbox: find command: no-such-command: command not found/);
  });
});

describe('tsbox exec --explain', () => {
  it('names the calls --debug traced, the joining setns among them, and shows which namespaces the exec-init shares', async () => {
    const name = `explain-exec-${process.pid}`;
    const d = await tsbox(['run', '-d', '--name', name, rootfsTar(), 'sleep', '60']);
    expect(d.code, d.stderr).toBe(0);
    try {
      const r = await tsbox(['exec', '--debug', '--explain=json', name, 'echo', 'inside']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('inside\n');
      const { debug, explained } = split(r.stderr);
      const named = explained.flatMap((s) => s.calls);
      expect(sorted(named)).toEqual(sorted(debug.map((l) => l.msg).filter((m) => CALL.test(m))));
      expect(named).toContain("setns(5 /* the container's PID namespace (for the command) */, CLONE_NEWPID) = 0");
      expect(named).toContain('prctl(PR_SET_DUMPABLE, 0) = 0');
      const joined = explained.find((s) => s.step === 'spawn exec-init')!.figures.joined as Record<string, { container: string; exec: string }>;
      for (const ns of ['uts', 'ipc', 'net', 'cgroup']) expect(joined[ns]!.exec, ns).toBe(joined[ns]!.container);
      // It never enters the container's PID namespace itself (issue 10.1).
      expect(joined.pid!.exec).not.toBe(joined.pid!.container);
    } finally {
      await tsbox(['rm', '-f', name]);
    }
  });
});

describe('the explanation texts stay out of the normal path', () => {
  it('are in dist/explain.cjs only, not in the bundles a run loads (CLI, init, exec-init, monitor)', () => {
    const dist = new URL('../../dist/', import.meta.url);
    // The first 30 characters of each sentence, where they hold no quote the bundler could escape.
    const phrases = STEP_TEXTS.flatMap((t) => (typeof t.what === 'string' ? [t.what.slice(0, 30)] : [])).filter((p) => !/['"\\]/.test(p));
    expect(phrases.length).toBeGreaterThan(15);
    const explain = readFileSync(new URL('explain.cjs', dist), 'utf8');
    for (const p of phrases) expect(explain, p).toContain(p);
    for (const bundle of ['tsbox.cjs', 'init.cjs', 'exec-init.cjs', 'monitor.cjs', 'start.cjs']) {
      const code = readFileSync(new URL(bundle, dist), 'utf8');
      for (const p of phrases) expect(code.includes(p), `${bundle} carries "${p}"`).toBe(false);
    }
  });
});
