import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { HostFigures } from '../../src/explain/figures.js';
import { ExplainRenderer, type ExplainedStep } from '../../src/explain/render.js';
import { stepText, STEP_TEXTS } from '../../src/explain/steps.js';

/** A host with fixed figures: 7 processes, two interfaces, the init's namespaces all new. */
const host: HostFigures = {
  processCount: () => 7,
  interfaces: () => ['eth0', 'lo'],
  hostname: () => 'hosty',
  namespaceIds: (pid) => (pid === 'self' ? { mnt: '1', uts: '2', ipc: '3', net: '4', pid: '5', cgroup: '6' } : { mnt: '11', uts: '12', ipc: '13', net: '14', pid: '15', cgroup: '6' }),
  mounts: (pid) => (pid === 'self' ? [{ target: '/', fstype: 'ext4' }, { target: '/proc', fstype: 'proc' }, { target: '/sys', fstype: 'sysfs' }] : [{ target: '/', fstype: 'overlay' }, { target: '/proc', fstype: 'proc' }]),
  cgroupFile: () => '',
};

function render(records: Array<[Record<string, unknown>, string]>, format: 'text' | 'json' = 'json'): string {
  let out = '';
  const r = new ExplainRenderer({ format, write: (t) => (out += t), color: false, host });
  for (const [fields, msg] of records) r.record(fields, msg);
  r.end();
  return out;
}
const steps = (out: string): ExplainedStep[] => out.trim().split('\n').map((l) => JSON.parse(l) as ExplainedStep);

const SPAWN: Array<[Record<string, unknown>, string]> = [
  [{ step: 'spawn init' }, 'unshare(CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWPID|CLONE_NEWNET) = 0'],
  [{ step: 'spawn init' }, 'setns(18 /* /proc/self/ns/mnt */, 0) = 0'],
  [{ step: 'spawn init', pid: 4242, namespaces: 'mnt uts ipc net pid' }, 'init spawned at start-up, before the command line was read'],
];

describe('the --explain renderer', () => {
  it('gives each step its sentence, its calls as traced, figures and what would be seen without it', () => {
    const [spawn] = steps(render(SPAWN));
    expect(spawn!.step).toBe('spawn init');
    expect(spawn!.explain).toMatch(/new namespaces/);
    expect(spawn!.explain).toMatch(/before tsbox even read its command line/);
    expect(spawn!.calls).toEqual(['unshare(CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWPID|CLONE_NEWNET) = 0', 'setns(18 /* /proc/self/ns/mnt */, 0) = 0']);
    expect(spawn!.figures.namespaces).toMatchObject({ pid: { host: '5', container: '15' }, cgroup: { host: '6', container: '6' } });
    expect(spawn!.without).toMatch(/^without CLONE_NEWPID the container would see the host's 7 processes .*your command is PID 1/);
    expect(spawn!.without).toMatch(/host's 2 network interfaces \(eth0, lo\)/);
    expect(spawn!.without).toMatch(/rename the host \("hosty"\)/);
  });

  it('says only what the traced flags did: without CLONE_NEWNET, what the container shares', () => {
    const [spawn] = steps(render([[{ step: 'spawn init' }, 'unshare(CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|CLONE_NEWPID) = 0'], [{ step: 'spawn init', pid: 1 }, 'init spawned']]));
    expect(spawn!.without).not.toMatch(/without CLONE_NEWNET/);
    expect(spawn!.without).toMatch(/without CLONE_NEWPID/);
    // ... and what the container shares for it.
    expect(spawn!.without).toMatch(/CLONE_NEWNET was not asked for: the container uses the host's network: its interfaces \(eth0, lo\)/);
  });

  it('explains a family of steps once, at its first', () => {
    const out = steps(render([
      [{ step: 'mask /proc/kcore', init: true }, 'openat2(/proc/kcore) = -1 ENOENT'],
      [{ step: 'mask /proc/keys', init: true }, 'openat2(/proc/keys) = 19'],
    ]));
    expect(out.map((s) => s.step)).toEqual(['mask /proc/kcore', 'mask /proc/keys']);
    expect(out[0]!.explain).toMatch(/Host information/);
    expect(out[0]!.without).toMatch(/proc\/keys/);
    expect(out[1]!.explain).toBeNull();
    expect(out[1]!.without).toBeNull();
  });

  it('a step whose records come in two stretches is shown again as continued, explained once', () => {
    const out = steps(render([
      [{ step: 'start init' }, 'start init'],
      [{ step: 'set up container' }, 'set up container'],
      [{ step: 'start init', init: true }, 'prctl(PR_SET_PDEATHSIG, SIGKILL) = 0'],
    ]));
    expect(out.map((s) => [s.step, s.continued ?? false, s.explain !== null])).toEqual([['start init', false, true], ['set up container', false, true], ['start init', true, false]]);
    expect(out[2]!.calls).toEqual(['prctl(PR_SET_PDEATHSIG, SIGKILL) = 0']);
  });

  it('a group without controllers: no limit applies, and why', () => {
    const [cg] = steps(render([[{ step: 'create cgroup' }, 'create cgroup'], [{ cgroup: '/sys/fs/cgroup/unified/tsbox/abc', controllers: [] }, 'cgroup created']]));
    expect(cg!.figures.noLimit).toMatch(/^no limit applies to this container: its group \/sys\/fs\/cgroup\/unified\/tsbox\/abc has no controllers .*hybrid/);
    const [limited] = steps(render([[{ step: 'create cgroup' }, 'create cgroup'], [{ cgroup: '/sys/fs/cgroup/tsbox/abc', controllers: ['memory', 'pids'] }, 'cgroup created'], [{ file: 'memory.max', value: '1048576' }, 'cgroup limit set']]));
    expect(limited!.figures.noLimit).toBeUndefined();
    expect(limited!.notes).toContain('write memory.max: 1048576');
  });

  it('shows the mount table before and after pivot_root, from the host and the held init', () => {
    const out = steps(render([...SPAWN, [{ step: 'pivot_root', init: true }, 'pivot_root(".", ".") = 0']]));
    expect(out[1]!.figures).toEqual({ mountsBefore: 3, mountsAfter: ['/ (overlay)', '/proc (proc)'] });
  });

  it('keeps every traced call, also of steps no text covers, and other messages as notes', () => {
    const out = steps(render([[{ step: 'a step tsbox adds later' }, 'a step tsbox adds later'], [{ step: 'a step tsbox adds later', init: true }, 'close(fd 3) = 0'], [{ step: 'a step tsbox adds later' }, 'netlink: add link [net, 40 bytes] ok']]));
    expect(out).toEqual([{ step: 'a step tsbox adds later', explain: null, calls: ['close(fd 3) = 0'], notes: ['netlink: add link [net, 40 bytes] ok'], figures: {}, without: null }]);
  });

  it('text: a header per step, the calls indented, no colour unless asked', () => {
    const out = render(SPAWN, 'text');
    expect(out).toMatch(/^\n▸ spawn init\n {2}The container's first process/);
    expect(out).toMatch(/^ {4}unshare\(CLONE_NEWNS\|/m);
    expect(out).toMatch(/^ {4}pid {5}5 -> 15 {2}\(new\)$/m);
    expect(out).toMatch(/^ {2}Without CLONE_NEWPID/m);
    expect(out).not.toMatch(/\x1b/);
  });

  it('every step the stories name has a text (read from their sources: a new step without one fails here)', () => {
    const sources = ['runtime/run.ts', 'runtime/exec.ts', 'init/story.ts', 'init/exec-story.ts', 'init/resolve-process.ts', 'init/become.ts', 'init/init-steps.ts', 'init/spawn-command.ts'].map((f) => readFileSync(new URL(`../../src/${f}`, import.meta.url), 'utf8'));
    const named = new Set(sources.flatMap((src) => [...src.matchAll(/\bstep\('([^']+)'|current = '([^']+)'/g)].map((m) => m[1] ?? m[2]!)));
    expect(named.size).toBeGreaterThan(25);
    for (const step of named) expect(stepText(step), step).toBeDefined();
    for (const step of ['create container directory', 'spawn init', 'create cgroup', 'move init into cgroup', 'prepare rootfs', 'apply device policy', 'start init', 'unshare cgroup namespace', 'make mounts private', 'mount rootfs', 'mount proc on /proc', 'mknod /dev/null', 'symlink /dev/fd -> /proc/self/fd', 'mask /proc/kcore', 'make /proc/sys read-only', 'make root read-only', 'bind /x on /etc/hosts', 'pivot_root', 'verify /proc', 'set hostname', 'bring up loopback', 'resolve user', 'set working directory', 'find command', 'apply security', 'start container', 'exec', 'cleanup', 'join mount namespace', 'join pid namespace']) {
      expect(stepText(step), step).toBeDefined();
    }
    expect(stepText('make root read-only')!.family).toBeUndefined();
    expect(STEP_TEXTS.length).toBeGreaterThan(30);
  });
});

describe('--explain for tsbox network and tsbox pull', () => {
  it('every step they log has a text (read from the step lists and the sources that log them)', async () => {
    const { NETWORK_STEPS } = await import('../../src/cli/commands/network-trace.js');
    const { PULL_STEPS } = await import('../../src/registry/trace.js');
    const names = [...Object.values(NETWORK_STEPS), ...PULL_STEPS];
    expect(names.length).toBe(13);
    for (const step of names) expect(stepText(step)?.what, step).toBeDefined();
    // The steps the image store logs for a pull (by string, not by type) are among PULL_STEPS.
    const load = readFileSync(new URL('../../src/image/oci/load.ts', import.meta.url), 'utf8');
    const logged = [...load.matchAll(/debug\(\{ step: '([^']+)'/g)].map((m) => m[1]!);
    expect(logged).toEqual(['extract layers', 'write image record']);
    for (const step of logged) expect(PULL_STEPS as readonly string[]).toContain(step);
    // The registry client names its steps with PULL_STEPS' type: a new one fails typecheck, not here.
    for (const f of ['registry/session.ts', 'registry/resolve.ts', 'registry/fetch-blob.ts', 'registry/stream-blob.ts', 'image/oci/pull-image.ts']) {
      const src = readFileSync(new URL(`../../src/${f}`, import.meta.url), 'utf8');
      for (const m of src.matchAll(/trace\?\.\('([^']+)'/g)) expect(PULL_STEPS as readonly string[], `${f}: ${m[1]}`).toContain(m[1]);
    }
  });

  it('network create: the definition\'s values in the text, the netlink messages as notes', () => {
    const def = { name: 'n1', subnet: '10.46.7.0/24', gateway: '10.46.7.1', bridge: 'tsbr12345678' };
    const out = steps(render([
      [{ step: 'read host routes' }, 'netlink: list links [RTM_GETLINK NLM_F_REQUEST|NLM_F_DUMP, host, 32 bytes] ok'],
      [{ step: 'define network', networkDef: def }, 'network n1: subnet 10.46.7.0/24'],
    ]));
    expect(out.map((s) => s.step)).toEqual(['read host routes', 'define network']);
    expect(out[0]!.explain).toMatch(/Linux bridge/);
    expect(out[0]!.notes).toEqual(['netlink: list links [RTM_GETLINK NLM_F_REQUEST|NLM_F_DUMP, host, 32 bytes] ok']);
    expect(out[1]!.explain).toMatch(/RTM_NEWLINK \(NLM_F_CREATE\|NLM_F_EXCL: a link of kind "bridge" named tsbr12345678, MAC 02:00:0a:2e:07:01\), RTM_NEWADDR \(10\.46\.7\.1\/24 on tsbr12345678/);
    expect(out[1]!.explain).toMatch(/add[s]? 10\.46\.7\.0\/24 to the set "subnets"/);
  });

  it('pull: a text and a "without" per step', () => {
    const out = steps(render([
      [{ step: 'fetch layers' }, 'GET /v2/x/blobs/sha256:ab = 200: 12 bytes, size and digest match the manifest; kept in the blob cache'],
    ]));
    expect(out[0]!.explain).toMatch(/hashed while they arrive/);
    expect(out[0]!.without).toMatch(/^without the digest check a registry or a proxy could hand you other bytes than the manifest names/);
  });
});
