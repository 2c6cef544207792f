/**
 * One namespace at a time (--pid, --ipc, --uts, --cgroupns; namespaces/modes.ts): real
 * containers, compared with the host's namespaces and with each other's by their ids
 * (readlink /proc/PID/ns/TYPE, as the kernel names them), and bad combinations refused with
 * one line, exit 125, nothing left behind.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync, rmdirSync } from 'node:fs';
import { findCgroup2Mount } from '../../src/cgroups/index.js';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { rootfsTar, tsbox, type TsboxResult } from '../helpers/tsbox.js';

// A root of this file's own: detached containers live here while other files run theirs.
const ROOT = () => join(inject('workDir'), 'ns-modes-root');
const t = (args: string[]) => tsbox(args, { root: ROOT() });
const tag = `ns${process.pid}`;

function ok(r: TsboxResult): string {
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

const hostNs = (type: string) => readlinkSync(`/proc/self/ns/${type}`);
const pidOf = async (name: string) => Number(ok(await t(['inspect', name])).match(/"pid": (\d+)/)![1]);

// Refused runs get a cgroup parent of their own: other test files make and remove groups under tsbox/ meanwhile.
const PARENT = `tsbox-nstest-${process.pid}`;
const PARENT_DIR = join(findCgroup2Mount(readFileSync('/proc/self/mountinfo', 'utf8')) ?? '/sys/fs/cgroup', PARENT);
function cgroupChildren(): string[] {
  return existsSync(PARENT_DIR) ? readdirSync(PARENT_DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name) : [];
}
const containerDirs = () => (existsSync(join(ROOT(), 'containers')) ? readdirSync(join(ROOT(), 'containers')) : []);

async function expectRefused(args: string[], message: RegExp): Promise<void> {
  const cgroupsBefore = cgroupChildren();
  const dirsBefore = containerDirs();
  const r = await t([args[0]!, '--cgroup-parent', PARENT, ...args.slice(1)]);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^tsbox: /);
  expect(lines[0]).toMatch(message);
  expect(r.code).toBe(125);
  expect(r.stdout).toBe('');
  expect(containerDirs()).toEqual(dirsBefore);
  expect(cgroupChildren()).toEqual(cgroupsBefore);
}

const started: string[] = [];
async function detached(name: string, flags: string[]): Promise<number> {
  ok(await t(['run', '-d', '--name', name, ...flags, rootfsTar(), 'sleep', '600']));
  started.push(name);
  return pidOf(name);
}

afterAll(async () => {
  // Joiners first: rm refuses a container whose namespaces a running one shares.
  for (const name of started.reverse()) await t(['rm', '-f', name]);
  expect(containerDirs()).toEqual([]);
  if (existsSync(PARENT_DIR)) rmdirSync(PARENT_DIR);
});

describe('--pid', () => {
  it('host: the container sees the host\'s processes (this test\'s own among them) in a /proc of the host\'s PID namespace', async () => {
    const out = ok(await t(['run', '--pid', 'host', rootfsTar(), 'sh', '-c', `readlink /proc/self/ns/pid; test -d /proc/${process.pid} && echo sees-${process.pid}; echo $$`]));
    const [ns, sees, self] = out.trim().split('\n');
    expect(ns).toBe(hostNs('pid'));
    expect(sees).toBe(`sees-${process.pid}`);
    expect(Number(self)).toBeGreaterThan(1); // not PID 1: a host pid
    // Without it: a namespace of its own, where the command is PID 1 and the test is not there.
    const own = ok(await t(['run', rootfsTar(), 'sh', '-c', `readlink /proc/self/ns/pid; test -d /proc/${process.pid} || echo blind; echo $$`])).trim().split('\n');
    expect(own[0]).not.toBe(hostNs('pid'));
    expect(own.slice(1)).toEqual(['blind', '1']);
  });

  it('exec into containers that share a PID namespace: their init is not PID 1 of their /proc', async () => {
    await detached(`${tag}-hostpid`, ['--pid', 'host']);
    const out = ok(await t(['exec', `${tag}-hostpid`, 'sh', '-c', `test -d /proc/${process.pid} && echo host-view`]));
    expect(out.trim()).toBe('host-view');
    await detached(`${tag}-joined`, ['--pid', `container:${tag}-hostpid`]);
    expect(ok(await t(['exec', `${tag}-joined`, 'echo', 'in'])).trim()).toBe('in');
    ok(await t(['rm', '-f', `${tag}-joined`]));
  });

  it('container:NAME: the container joins another\'s PID namespace and sees its processes', async () => {
    const pid = await detached(`${tag}-p`, []);
    const out = ok(await t(['run', '--pid', `container:${tag}-p`, rootfsTar(), 'sh', '-c', 'readlink /proc/self/ns/pid; ps -o pid,args']));
    expect(out.split('\n')[0]).toBe(readlinkSync(`/proc/${pid}/ns/pid`));
    expect(out).toMatch(/^\s*1\s+sleep 600$/m); // the other container's PID 1
    expect((JSON.parse(ok(await t(['inspect', `${tag}-p`])))[0] as { HostConfig: unknown }).HostConfig).toMatchObject({ PidMode: '', IpcMode: 'private', UTSMode: '', CgroupnsMode: 'private' });
  });

  it('rm of a container whose PID namespace a running container joined is refused, naming the joiner; after it stops, rm works', async () => {
    await detached(`${tag}-base`, []);
    await detached(`${tag}-joiner`, ['--pid', `container:${tag}-base`]);
    const info = JSON.parse(ok(await t(['inspect', `${tag}-joiner`])))[0] as { HostConfig: Record<string, string> };
    expect(info.HostConfig.PidMode).toBe(`container:${tag}-base`);
    const r = await t(['rm', '-f', `${tag}-base`]);
    expect(r.code).toBe(125);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`running container ${tag}-joiner \\(pid\\) shares its namespaces.*Stop ${tag}-joiner first`));
    expect(ok(await t(['ps']))).toMatch(new RegExp(`${tag}-base`)); // still running
    ok(await t(['rm', '-f', `${tag}-joiner`]));
    ok(await t(['rm', '-f', `${tag}-base`]));
  });

  it('the same for --network container:NAME, whose network the removal would release under the joiner', async () => {
    await detached(`${tag}-netbase`, []);
    await detached(`${tag}-netjoiner`, ['--network', `container:${tag}-netbase`]);
    const r = await t(['rm', '-f', `${tag}-netbase`]);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(new RegExp(`running container ${tag}-netjoiner \\(network\\) shares its namespaces`));
    ok(await t(['rm', '-f', `${tag}-netjoiner`]));
    ok(await t(['rm', '-f', `${tag}-netbase`]));
  });
});

describe('--ipc', () => {
  it('shareable and container:NAME: both containers are in one IPC namespace; private ones are not', async () => {
    const pid = await detached(`${tag}-shm`, ['--ipc', 'shareable']);
    const theirs = readlinkSync(`/proc/${pid}/ns/ipc`);
    expect(theirs).not.toBe(hostNs('ipc'));
    expect(ok(await t(['run', '--ipc', `container:${tag}-shm`, rootfsTar(), 'readlink', '/proc/self/ns/ipc'])).trim()).toBe(theirs);
    const own = ok(await t(['run', rootfsTar(), 'readlink', '/proc/self/ns/ipc'])).trim();
    expect(own).not.toBe(theirs);
    expect(own).not.toBe(hostNs('ipc'));
    expect((JSON.parse(ok(await t(['inspect', `${tag}-shm`])))[0] as { HostConfig: Record<string, string> }).HostConfig.IpcMode).toBe('shareable');
  });

  it('host: the host\'s IPC namespace', async () => {
    expect(ok(await t(['run', '--ipc', 'host', rootfsTar(), 'readlink', '/proc/self/ns/ipc'])).trim()).toBe(hostNs('ipc'));
  });

  it('container:NAME of a container that did not allow it is refused, as docker does', async () => {
    await detached(`${tag}-priv`, []);
    await expectRefused(['run', '--ipc', `container:${tag}-priv`, rootfsTar(), 'true'], /--ipc container:.*-priv: its IPC namespace is not shareable \(it runs with --ipc private\)\. Start the container to be joined with --ipc shareable/);
  });
});

describe('--uts and --cgroupns', () => {
  it('--uts host: the host\'s hostname, in the kernel, /etc/hostname and $HOSTNAME; not set by the container', async () => {
    const out = ok(await t(['run', '--uts', 'host', rootfsTar(), 'sh', '-c', 'hostname; cat /etc/hostname; echo $HOSTNAME; readlink /proc/self/ns/uts']));
    expect(out.trim().split('\n')).toEqual([hostname(), hostname(), hostname(), hostNs('uts')]);
    expect(readFileSync('/proc/sys/kernel/hostname', 'utf8').trim()).toBe(hostname());
    // Without it: the short id.
    expect(ok(await t(['run', rootfsTar(), 'hostname'])).trim()).toMatch(/^[0-9a-f]{12}$/);
  });

  it('--cgroupns host: /proc/self/cgroup shows the host\'s path of the container\'s group; private shows /', async () => {
    const line = (out: string) => out.split('\n').find((l) => l.startsWith('0::'));
    const host = ok(await t(['run', '--cgroupns', 'host', rootfsTar(), 'sh', '-c', 'cat /proc/self/cgroup; readlink /proc/self/ns/cgroup']));
    expect(line(host)).toMatch(/^0::\/tsbox\/[0-9a-f]{12}$/);
    expect(host.trim().split('\n').at(-1)).toBe(hostNs('cgroup'));
    const own = ok(await t(['run', rootfsTar(), 'sh', '-c', 'cat /proc/self/cgroup; readlink /proc/self/ns/cgroup']));
    expect(line(own)).toBe('0::/');
    expect(own.trim().split('\n').at(-1)).not.toBe(hostNs('cgroup'));
  });
});

describe('bad combinations: one line, 125, nothing left behind', () => {
  it('refuses them before anything is made', async () => {
    await expectRefused(['run', '--uts', 'host', '--hostname', 'x', rootfsTar(), 'true'], /--hostname cannot be used with --uts host/);
    await expectRefused(['run', '--pid', 'bogus', rootfsTar(), 'true'], /invalid --pid 'bogus'/);
    await expectRefused(['run', '--ipc', 'none', rootfsTar(), 'true'], /invalid --ipc 'none'/);
    await expectRefused(['run', '--cgroupns', 'x', rootfsTar(), 'true'], /invalid --cgroupns 'x'/);
    await expectRefused(['create', '--uts', 'container:x', rootfsTar(), 'true'], /invalid --uts 'container:x'/);
    await expectRefused(['run', '--pid', 'container:', rootfsTar(), 'true'], /--pid container: names no container/);
    await expectRefused(['run', '--pid', `container:${tag}-nope`, rootfsTar(), 'true'], /no such container/);
    ok(await t(['run', '--name', `${tag}-done`, rootfsTar(), 'true']));
    started.push(`${tag}-done`);
    await expectRefused(['run', '--pid', `container:${tag}-done`, rootfsTar(), 'true'], /the container is not running/);
    await expectRefused(['run', '-d', '--ipc', `container:${tag}-done`, rootfsTar(), 'true'], /the container is not running/);
  });
});

describe('inspect --namespaces', () => {
  it('shows the container\'s namespace ids next to the host\'s, its cgroup as the kernel holds it, and its mounts', async () => {
    const pid = await detached(`${tag}-view`, ['--uts', 'host']);
    const text = ok(await t(['inspect', '--namespaces', `${tag}-view`]));
    for (const type of ['cgroup', 'ipc', 'mnt', 'net', 'pid']) {
      expect(text).toMatch(new RegExp(`^${type}\\s+${escape(readlinkSync(`/proc/${pid}/ns/${type}`))}\\s+${escape(hostNs(type))}\\s+own$`, 'm'));
    }
    expect(text).toMatch(new RegExp(`^uts\\s+${escape(hostNs('uts'))}\\s+${escape(hostNs('uts'))}\\s+shared with the host$`, 'm'));
    const group = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::'))!.slice(3);
    expect(text).toMatch(new RegExp(`^cgroup ${escape(group)} \\(`, 'm'));
    // This host's cgroup v2 may have no controllers (hybrid): then it must say that no limit applies.
    const controllers = readFileSync(join(findCgroup2Mount(readFileSync('/proc/self/mountinfo', 'utf8'))!, group, 'cgroup.controllers'), 'utf8').trim();
    if (controllers === '') expect(text).toMatch(/^ {2}no limit applies: no controllers are enabled for this group/m);
    else expect(text).toMatch(new RegExp(`^ {2}controllers: ${escape(controllers)}$`, 'm'));
    expect(text).toMatch(/^ {2}\/\s+overlay\s+overlay$/m);
    expect(text).toMatch(/^ {2}\/proc\s+proc\s+proc$/m);

    const json = JSON.parse(ok(await t(['inspect', '--namespaces', '--format', 'json', `${tag}-view`]))) as { pid: number; namespaces: { type: string; shared: boolean }[]; cgroup: { path: string; noLimits: string | null } }[];
    expect(json[0]!.pid).toBe(pid);
    expect(json[0]!.namespaces.filter((n) => n.shared).map((n) => n.type)).toEqual(expect.arrayContaining(['uts']));
    expect(json[0]!.namespaces.find((n) => n.type === 'pid')!.shared).toBe(false);
    expect(json[0]!.cgroup.path).toBe(group);
  });

  it('refuses a container that is not running, in one line', async () => {
    ok(await t(['create', '--name', `${tag}-held`, rootfsTar(), 'true']));
    started.push(`${tag}-held`);
    const r = await t(['inspect', '--namespaces', `${tag}-held`]);
    expect(r.code).toBe(125);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/is not running: its namespaces exist only while its processes do/);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
