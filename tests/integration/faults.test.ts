/**
 * Faults, through the CLI with real containers: tsbox killed with SIGKILL during
 * extraction, during setup and while the container runs; a full disk during extraction;
 * the cache damaged under tsbox; the command killed by a signal, failing during setup, or
 * losing its stdout reader. Each time: the right exit status, no hang, the container's
 * processes gone, and after the next tsbox command (or `tsbox gc`) no container
 * directory, record, cgroup, mount or partial cache entry left; a partial entry is never
 * used.
 *
 * Every test uses a state root of its own (cold cache, and counts that other test files
 * cannot disturb).
 */
import { execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  alive, buildDataRootfs, cgroupsNamed, childPids, comm, descendants, hostMountsMentioning, idsInLog, leftBehind, NOTHING_LEFT, ownerCgroup,
  rootState, stderrMatch, vethsOf, waitFor, type BuiltRootfs,
} from '../helpers/faults.js';
import { rootfsTar, TSBOX_BIN, tsbox, type TsboxResult } from '../helpers/tsbox.js';

const workDir = () => inject('workDir');
let big: BuiltRootfs; // ~200 MB: extraction takes long enough to be caught mid-way
let medium: BuiltRootfs; // ~16 MB: more than a small tmpfs holds
const roots: string[] = [];

beforeAll(async () => {
  big = await buildDataRootfs(rootfsTar(), mkdtempSync(join(workDir(), 'faults-big-')), 32);
  medium = await buildDataRootfs(rootfsTar(), mkdtempSync(join(workDir(), 'faults-medium-')), 3);
}, 120_000);

afterAll(() => {
  for (const b of [big, medium]) if (b) rmSync(join(b.tar, '..'), { recursive: true, force: true });
});

// Whatever a failed test left, reclaim it (gc) and drop the root.
afterEach(async () => {
  for (const root of roots.splice(0)) {
    await tsbox(['gc'], { root });
    // The test's own tmpfs (a full disk), and anything a failure left mounted under the root.
    const points = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter((m) => m.startsWith(root));
    for (const m of points.reverse()) execFileSync('umount', ['-l', m]);
    rmSync(root, { recursive: true, force: true });
  }
});

/**
 * The ids of the runs in each root, watched as they appear: every test's root is its own,
 * so each container directory that appears there is one of the test's runs, and the
 * run's cgroup is named after it.
 */
const seenIds = new Map<string, Set<string>>();
const watchers: Array<ReturnType<typeof setInterval>> = [];
afterEach(() => watchers.splice(0).forEach(clearInterval));

function freshRoot(name: string): string {
  const root = mkdtempSync(join(workDir(), `faults-${name}-`));
  roots.push(root);
  const ids = new Set<string>();
  seenIds.set(root, ids);
  watchers.push(setInterval(() => rootState(root).containers.forEach((id) => ids.add(id)), 2));
  return root;
}

/** Nothing of the runs `ids` is left: directories, records, partial extractions, cgroups, mounts. */
function expectClean(root: string, ids: Iterable<string>): void {
  ids = new Set([...ids, ...(seenIds.get(root) ?? [])]);
  expect(leftBehind(root, ids)).toEqual(NOTHING_LEFT);
}

/** The entry is published under the archive's digest, with a sound marker and a real tree. */
function expectSoundEntry(root: string, built: BuiltRootfs): void {
  expect(rootState(root).entries).toEqual([built.sha256]);
  const marker = JSON.parse(readFileSync(join(root, 'rootfs', built.sha256, 'entry.json'), 'utf8')) as { digest: string };
  expect(marker.digest).toBe(`sha256:${built.sha256}`);
}

/** A run that must see the complete tree: prints the sample file's md5. */
async function runSample(root: string, built: BuiltRootfs, extra: string[] = []): Promise<TsboxResult> {
  const r = await tsbox(['run', '--log-level', 'info', ...extra, built.tar, 'md5sum', built.sample.path], { root, timeoutMs: 60_000 });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toBe(`${built.sample.md5}  ${built.sample.path}\n`);
  return r;
}

/** A partial extraction has written at least its first /data files. */
function extractionUnderWay(root: string): boolean {
  return rootState(root).temps.some((t) => existsSync(join(root, 'rootfs', t, 'tree', 'data', 'd1')));
}

interface Frozen {
  tsboxPid: number;
  initPid: number | null;
  containerId: string;
  cgroup: string | null;
}

/**
 * Stop tsbox (and its init) with SIGSTOP once `ready()` holds, so the test can look at the
 * state at that exact point, then let `act` decide what to kill.
 */
function freezeWhen(child: ChildProcess, root: string, ready: () => Promise<unknown>, act: (f: Frozen) => void | Promise<void>): Promise<Frozen> {
  return (async () => {
    await ready();
    process.kill(child.pid!, 'SIGSTOP');
    const initPid = childPids(child.pid!)[0] ?? null;
    if (initPid !== null) process.kill(initPid, 'SIGSTOP');
    const [containerId] = rootState(root).containers;
    const frozen = { tsboxPid: child.pid!, initPid, containerId: containerId!, cgroup: ownerCgroup(root, containerId!) };
    await act(frozen);
    return frozen;
  })();
}

describe('kill -9 of tsbox during extraction', () => {
  it('the waiting init dies; gc reclaims the run and the partial extraction; the next run extracts again', async () => {
    const root = freshRoot('extract-gc');
    let frozen: Promise<Frozen> | undefined;
    let seen: ReturnType<typeof rootState> | undefined;
    const r = await tsbox(['run', big.tar, 'true'], {
      root,
      timeoutMs: 60_000,
      onSpawn: (child) => {
        frozen = freezeWhen(child, root, () => waitFor(() => extractionUnderWay(root), 30_000, 'the extraction to start', 1), (f) => {
          seen = rootState(root);
          process.kill(f.tsboxPid, 'SIGKILL');
        });
      },
    });
    const f = await frozen!;
    expect(r.signal).toBe('SIGKILL');
    // Mid-way: the partial tree is only under a temp name, never under the digest's.
    expect(seen!.entries).toEqual([]);
    expect(seen!.temps.length).toBeGreaterThan(0);
    // The init (spawned before extraction, waiting for its plan) dies with tsbox.
    expect(f.initPid).not.toBeNull();
    await waitFor(() => !alive(f.initPid!), 5_000, 'the init to die');
    // What a SIGKILLed tsbox could not clean up is still there...
    expect(rootState(root).containers).toEqual([f.containerId]);
    expect(f.cgroup).not.toBeNull();
    expect(existsSync(f.cgroup!)).toBe(true);

    // ...until gc.
    const gc = await tsbox(['gc'], { root });
    expect(gc.stdout).toBe('reclaimed 1 container(s), 1 partial extraction(s)\n');
    expectClean(root, [f.containerId]);
    expect(rootState(root).entries).toEqual([]);

    const next = await runSample(root, big);
    expect(next.stderr).toMatch(/"msg":"extracted rootfs archive"/);
    expectSoundEntry(root, big);
    expectClean(root, [f.containerId, ...idsInLog(next.stderr)]);
  });

  it('the next run reclaims the leftovers itself and extracts a complete tree', async () => {
    const root = freshRoot('extract-next');
    let frozen: Promise<Frozen> | undefined;
    const r = await tsbox(['run', big.tar, 'true'], {
      root,
      timeoutMs: 60_000,
      onSpawn: (child) => {
        frozen = freezeWhen(child, root, () => waitFor(() => extractionUnderWay(root), 30_000, 'the extraction to start', 1), (f) => process.kill(f.tsboxPid, 'SIGKILL'));
      },
    });
    const f = await frozen!;
    expect(r.signal).toBe('SIGKILL');
    expect(rootState(root).temps.length).toBeGreaterThan(0);

    const next = await runSample(root, big);
    expect(next.stderr).toMatch(/reclaimed the leftovers of a killed run/);
    expect(next.stderr).toMatch(/removed a partial rootfs extraction left by a dead process/);
    expect(next.stderr).toMatch(/"msg":"extracted rootfs archive"/);
    expectSoundEntry(root, big);
    expectClean(root, [f.containerId, ...idsInLog(next.stderr)]);
  });

  it('a run waiting for the killed extractor extracts itself, never using the partial tree', async () => {
    const root = freshRoot('extract-waiter');
    let frozen: Promise<Frozen> | undefined;
    let waiter: Promise<TsboxResult> | undefined;
    const first = await tsbox(['run', big.tar, 'true'], {
      root,
      timeoutMs: 60_000,
      onSpawn: (child) => {
        frozen = freezeWhen(child, root, () => waitFor(() => extractionUnderWay(root), 30_000, 'the extraction to start', 1), async (f) => {
          // The first tsbox is frozen holding the archive's lock: a second run waits for it.
          let waiting: Promise<string> | undefined;
          waiter = tsbox(['run', '--log-level', 'info', big.tar, 'md5sum', big.sample.path], {
            root,
            timeoutMs: 60_000,
            onSpawn: (second) => void (waiting = stderrMatch(second, 'another tsbox is extracting this archive')),
          });
          await waiting;
          process.kill(f.tsboxPid, 'SIGKILL');
        });
      },
    });
    const f = await frozen!;
    expect(first.signal).toBe('SIGKILL');
    const second = await waiter!;
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toBe(`${big.sample.md5}  ${big.sample.path}\n`);
    expect(second.stderr).toMatch(/"msg":"extracted rootfs archive"/);
    expectSoundEntry(root, big);
    // The dead extractor's leftovers were alive when the second run started; gc takes them.
    expect(rootState(root).containers).toEqual([f.containerId]);
    const gc = await tsbox(['gc'], { root });
    expect(gc.stdout).toBe('reclaimed 1 container(s), 1 partial extraction(s)\n');
    expectClean(root, [f.containerId, ...idsInLog(second.stderr)]);
    expectSoundEntry(root, big);
  });
});

describe('kill -9 of tsbox during setup', () => {
  let root: string;
  beforeAll(async () => {
    // A root of its own, with the rootfs already cached: these runs are all setup.
    root = mkdtempSync(join(workDir(), 'faults-setup-'));
    expect((await tsbox(['run', rootfsTar(), 'true'], { root })).code).toBe(0);
  });
  afterAll(async () => {
    await tsbox(['gc'], { root });
    rmSync(root, { recursive: true, force: true });
  });

  // Debug lines tsbox prints as it goes; the test freezes tsbox and its init at each.
  const points: Array<[string, string, { initMounted?: boolean }]> = [
    ['after the cgroup is created', '"msg":"cgroup created"', {}],
    ['right after the init is spawned', '"step":"spawn init"', {}],
    // The default network: a lease written, maybe a veth and the in-namespace set-up.
    ['while the network is attached', '"step":"attach network"', {}],
    ['while the init waits for its plan', '"step":"start init"', {}],
    // The lease, the network record and the links are made while the init mounts.
    ['while the network is wired', '"step":"wire network"', {}],
    ['after the overlay is mounted in the container', '"step":"mount rootfs"', { initMounted: true }],
    ['after pivot_root', '"step":"pivot_root"', { initMounted: true }],
  ];
  for (const [when, marker, expectations] of points) {
    it(`${when}: the init dies and gc reclaims everything`, async () => {
      // The init runs on while the test reacts to the line, so a late point may be passed
      // already (the command runs): then that attempt proves only the cleanup; try again.
      let inSetup = false;
      for (let attempt = 0; attempt < 3 && !inSetup; attempt++) inSetup = await killAt(marker, expectations);
      expect(inSetup, `tsbox was never caught in setup ${when}`).toBe(true);
    });
  }

  /** Kill tsbox at `marker`; check the cleanup; say whether it was still setting up. */
  async function killAt(marker: string, expectations: { initMounted?: boolean }): Promise<boolean> {
    let frozen: Promise<Frozen> | undefined;
    let initMounts = '';
    let initComm: string | null = null;
    let psWhileFrozen = '';
    const r = await tsbox(['run', '--debug', rootfsTar(), 'sleep', '300'], {
      root,
      onSpawn: (child) => {
        frozen = freezeWhen(child, root, () => stderrMatch(child, marker), async (f) => {
          // Another command sees the create in progress: its record was written first.
          psWhileFrozen = (await tsbox(['ps'], { root })).stdout;
          if (f.initPid !== null) {
            initComm = comm(f.initPid);
            try {
              initMounts = readFileSync(`/proc/${f.initPid}/mountinfo`, 'utf8');
            } catch {
              // gone already
            }
          }
          process.kill(f.tsboxPid, 'SIGKILL');
          // An init stopped before it set PR_SET_PDEATHSIG would stay stopped forever: let
          // it go on, to find its parent gone.
          if (f.initPid !== null) process.kill(f.initPid, 'SIGCONT');
        });
      },
    });
    const f = await frozen!;
    expect(r.signal).toBe('SIGKILL');
    // Still in setup: the init had not become the command.
    const inSetup = initComm !== 'sleep' && !/container started/.test(r.stderr);
    if (inSetup && expectations.initMounted) expect(initMounts).toMatch(new RegExp(` - overlay overlay .*upperdir=[^,]*/${f.containerId}/live/upper`));
    // The container's mounts live in its own mount namespace: the host never sees them.
    expect(hostMountsMentioning(root)).toEqual([]);
    if (f.initPid !== null) await waitFor(() => !alive(f.initPid!), 5_000, 'the init to die');
    expect(rootState(root).containers).toEqual([f.containerId]);
    if (inSetup) {
      expect(psWhileFrozen).toMatch(new RegExp(`^${f.containerId}\\s.*\\sCreating\\s*$`, 'm'));
      // The create died midway: ps shows how it ended (its holder was killed), and gc
      // reclaims its record with what it held, even after ps has marked it exited.
      expect((await tsbox(['ps', '-a'], { root })).stdout).toMatch(new RegExp(`^${f.containerId}\\s.*Exited \\(137\\)`, 'm'));
    }

    const gc = await tsbox(['gc'], { root });
    expect(gc.stdout).toMatch(/^reclaimed 1 container\(s\)/);
    expectClean(root, [f.containerId]);
    // The veth goes with the dead init's namespace, asynchronously (the kernel's cleanup).
    await waitFor(() => vethsOf([f.containerId]).length === 0, 5_000, 'the veth to go with the namespace');
    const next = await tsbox(['run', rootfsTar(), 'echo', 'ok'], { root });
    expect(next.stdout).toBe('ok\n');
    return inSetup;
  }
});

describe('kill -9 of tsbox while the container runs', () => {
  it('every process of the container dies; the next run reclaims the directory, upper layer, record and cgroup', async () => {
    const root = freshRoot('running');
    let frozen: Promise<Frozen> | undefined;
    let procs: number[] = [];
    const r = await tsbox(['run', rootfsTar(), '/bin/sh', '-c', 'sleep 300 & sleep 301 & dd if=/dev/zero of=/upper-data bs=1k count=512 2>/dev/null; echo ready >&2; wait'], {
      root,
      onSpawn: (child) => {
        frozen = freezeWhen(child, root, () => stderrMatch(child, 'ready'), (f) => {
          procs = readFileSync(join(f.cgroup!, 'cgroup.procs'), 'utf8').trim().split('\n').map(Number);
          process.kill(f.tsboxPid, 'SIGKILL');
        });
      },
    });
    const f = await frozen!;
    expect(r.signal).toBe('SIGKILL');
    expect(procs).toHaveLength(3); // sh and two sleeps
    await waitFor(() => procs.every((p) => !alive(p)), 5_000, 'the container\'s processes to die');
    // The container wrote into its overlay upper layer, which is on the host's disk.
    expect(existsSync(join(root, 'containers', f.containerId, 'live', 'upper', 'upper-data'))).toBe(true);
    expect(rootState(root).records).toEqual([f.containerId]);

    const next = await tsbox(['run', '--log-level', 'info', rootfsTar(), 'echo', 'ok'], { root });
    expect(next.stdout).toBe('ok\n');
    expect(next.stderr).toMatch(/reclaimed the leftovers of a killed run/);
    expectClean(root, [f.containerId, ...idsInLog(next.stderr)]);
  });
});

describe('a full disk during extraction', () => {
  /** A tmpfs of `size` for the test's --root; unmounted (and removed) after the test. */
  function smallDisk(name: string, size: string): string {
    const mnt = freshRoot(name);
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', mnt]);
    return mnt;
  }

  async function expectNoSpace(root: string): Promise<void> {
    const r = await tsbox(['run', medium.tar, 'md5sum', medium.sample.path], { root });
    expect(r.code).toBe(125);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^tsbox: prepare rootfs: no space left on device while extracting the rootfs into /);
    expect(r.stdout).toBe('');
    // No entry, corrupt or not; no partial extraction; nothing of the run.
    expect(rootState(root).entries).toEqual([]);
    expectClean(root, []);
  }

  it('one line, exit 125, no entry; the run succeeds once the tmpfs is made bigger', async () => {
    const root = smallDisk('enospc-grow', '8m');
    await expectNoSpace(root);
    execFileSync('mount', ['-o', 'remount,size=64m', root]);
    const r = await runSample(root, medium);
    expect(r.stderr).toMatch(/"msg":"extracted rootfs archive"/);
    expectSoundEntry(root, medium);
    expectClean(root, idsInLog(r.stderr));
  });

  it('one line, exit 125, no entry; the run succeeds once a filler file is deleted', async () => {
    const root = smallDisk('enospc-filler', '48m');
    const filler = join(root, 'filler');
    writeFileSync(filler, Buffer.alloc(40 * 1024 * 1024));
    await expectNoSpace(root);
    unlinkSync(filler);
    const r = await runSample(root, medium);
    expect(r.stderr).toMatch(/"msg":"extracted rootfs archive"/);
    expectSoundEntry(root, medium);
    expectClean(root, idsInLog(r.stderr));
  });
});

describe('the cache damaged under tsbox is detected and extracted again', () => {
  const entry = (root: string) => join(root, 'rootfs', medium.sha256);
  const damages: Array<[string, (root: string) => void]> = [
    ['the entry directory removed', (root) => rmSync(entry(root), { recursive: true })],
    ['the tree removed', (root) => rmSync(join(entry(root), 'tree'), { recursive: true })],
    ['the tree replaced by a symlink to a host directory', (root) => {
      rmSync(join(entry(root), 'tree'), { recursive: true });
      symlinkSync('/', join(entry(root), 'tree'));
    }],
    ['the marker removed', (root) => unlinkSync(join(entry(root), 'entry.json'))],
    ['the marker naming another digest', (root) => {
      const marker = JSON.parse(readFileSync(join(entry(root), 'entry.json'), 'utf8')) as Record<string, unknown>;
      writeFileSync(join(entry(root), 'entry.json'), JSON.stringify({ ...marker, digest: `sha256:${'e'.repeat(64)}` }));
    }],
    ['the marker truncated', (root) => writeFileSync(join(entry(root), 'entry.json'), '{"digest":"sha')],
    ['the whole cache directory removed', (root) => rmSync(join(root, 'rootfs'), { recursive: true })],
  ];
  for (const [what, damage] of damages) {
    it(what, async () => {
      const root = freshRoot('damaged');
      const first = await runSample(root, medium);
      expect(first.stderr).toMatch(/"msg":"extracted rootfs archive"/);
      const cached = await runSample(root, medium);
      expect(cached.stderr).not.toMatch(/extracted rootfs archive/); // a plain hit

      damage(root);
      const again = await runSample(root, medium);
      expect(again.stderr).toMatch(/"msg":"extracted rootfs archive"/);
      expectSoundEntry(root, medium);
      expect(existsSync(join(entry(root), 'tree', 'bin'))).toBe(true);
      expectClean(root, idsInLog(first.stderr + cached.stderr + again.stderr));
    });
  }

  it('an unreadable index only costs a re-read: the sound entry is used', async () => {
    const root = freshRoot('index');
    await runSample(root, medium);
    writeFileSync(join(root, 'rootfs', 'index.json'), '\0garbage');
    const again = await runSample(root, medium);
    expectSoundEntry(root, medium);
    expectClean(root, idsInLog(again.stderr));
  });
});

describe('the command killed, failing during setup, or losing its stdout', () => {
  /** The container's command once it runs: the descendant of tsbox named `name`. */
  function commandPid(child: ChildProcess, name: string): Promise<number> {
    return (async () => {
      let pid = 0;
      await waitFor(() => {
        pid = descendants(child.pid!).find((p) => comm(p) === name) ?? 0;
        return pid !== 0;
      }, 10_000, `${name} to run`);
      return pid;
    })();
  }

  it('SIGKILL of the command (PID 1, with children) from the host: 137, all of it gone', async () => {
    const root = freshRoot('sigkill');
    let victims: number[] = [];
    const r = await tsbox(['run', rootfsTar(), '/bin/sh', '-c', 'sleep 300 & sleep 301 & echo ready >&2; wait'], {
      root,
      onSpawn: (child) => void stderrMatch(child, 'ready').then(() => {
        victims = descendants(child.pid!);
        process.kill(victims[0]!, 'SIGKILL'); // the container's PID 1, as seen from the host
      }),
    });
    expect(r.code).toBe(137);
    expect(victims).toHaveLength(3);
    await waitFor(() => victims.every((p) => !alive(p)), 5_000, 'the container\'s processes to die');
    expectClean(root, []);
  });

  it('SIGTERM of the command from the host under --init: 143', async () => {
    const root = freshRoot('sigterm');
    const r = await tsbox(['run', '--init', rootfsTar(), 'sleep', '300'], {
      root,
      onSpawn: (child) => void commandPid(child, 'sleep').then((pid) => process.kill(pid, 'SIGTERM')),
    });
    expect(r.code).toBe(143);
    expectClean(root, []);
  });

  it('the init killed from the host during setup: one line, 125, nothing left', async () => {
    const root = freshRoot('init-killed');
    let initPid = 0;
    const r = await tsbox(['run', '--debug', rootfsTar(), 'sleep', '300'], {
      root,
      onSpawn: (child) => void stderrMatch(child, '"step":"mount rootfs"').then(() => {
        initPid = childPids(child.pid!)[0]!;
        process.kill(initPid, 'SIGKILL');
      }),
    });
    expect(initPid).toBeGreaterThan(0);
    expect(r.code).toBe(125);
    const errors = r.stderr.trim().split('\n').filter((l) => l.startsWith('tsbox: '));
    expect(errors, r.stderr).toHaveLength(1);
    expect(errors[0]).toMatch(/SIGKILL|killed|exited/);
    expect(r.stderr).not.toMatch(/container started/);
    expectClean(root, idsInLog(r.stderr));
  });

  it('a command that does not exist: 127 with one line, with and without --init, nothing left', async () => {
    const root = freshRoot('missing');
    for (const extra of [[], ['--init']]) {
      const r = await tsbox(['run', ...extra, rootfsTar(), 'no-such-command'], { root });
      expect(r.code).toBe(127);
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^tsbox: find command: no-such-command: command not found/)]);
      expectClean(root, []);
    }
  });

  /** Read the first chunk of the container's stdout, then close the reader. */
  function closeStdoutEarly(args: string[], root: string): Promise<{ r: TsboxResult; first: string }> {
    let first = '';
    return tsbox(args, {
      root,
      timeoutMs: 15_000,
      onSpawn: (child) => child.stdout!.once('data', (d: string | Buffer) => {
        first = d.toString();
        child.stdout!.destroy();
      }),
    }).then((r) => ({ r, first }));
  }

  it('stdout closed early: a command under a shell or --init dies of SIGPIPE (141); no hang, nothing left', async () => {
    const root = freshRoot('epipe');
    for (const args of [['run', rootfsTar(), '/bin/sh', '-c', 'yes; exit $?'], ['run', '--init', rootfsTar(), 'yes']]) {
      const { r, first } = await closeStdoutEarly(args, root);
      expect(first).toMatch(/^y\n/);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(141);
      expectClean(root, []);
    }
  });

  it('stdout closed early: the command as PID 1 gets EPIPE (the kernel never gives PID 1 a default-action signal) and exits with its own status', async () => {
    const root = freshRoot('epipe-pid1');
    const { r, first } = await closeStdoutEarly(['run', rootfsTar(), 'yes'], root);
    expect(first).toMatch(/^y\n/);
    expect(r.code).toBe(1); // busybox yes on a write error
    expect(r.stderr).toMatch(/Broken pipe/);
    expectClean(root, []);
  });

  it('`tsbox run r.tar yes | head -1` in a shell: one line, pipeline status 141 under --init, nothing left', async () => {
    const root = freshRoot('pipeline');
    const out = execFileSync('bash', ['-c', `set -o pipefail; TSBOX_ROOT=${root} timeout 15 ${TSBOX_BIN} run --init ${rootfsTar()} yes | head -1; echo "status $?"`], { encoding: 'utf8' });
    expect(out).toBe('y\nstatus 141\n');
    expectClean(root, []);
  });
});
