/**
 * A terminal for tests: a tmux server of the test's own (a socket name no other test
 * uses), keys sent with send-keys and the screen read with capture-pane. Nothing here
 * sleeps for a fixed time: every wait polls for the condition it needs (a screen, a
 * process in the pane, the server gone).
 *
 * Why a socket per session and waiting for the server to exit: `kill-server` returns
 * before the server process has gone, and a `new-session` on the same socket meanwhile
 * reaches the dying server ("server exited unexpectedly").
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';

let sessions = 0;

export interface TmuxSession {
  /** Run a tmux command against this session's server. */
  tmux(...args: string[]): string;
  /** The pid of the pane's first process (the `sh -c` given to start). */
  readonly panePid: number;
  /** Poll the screen until it matches; fail with what it showed. */
  screenShows(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /**
   * Poll until a process in the pane (any descendant of its first process, in any pid
   * namespace) runs exactly `argv`, and, with `running`, is not stopped; its host pid.
   */
  processRuns(argv: string[], opts?: { running?: boolean; timeoutMs?: number }): Promise<number>;
  /** kill-server, then wait until the server process is gone. */
  close(): Promise<void>;
}

export async function startTmux(command: string, size: { x: number; y: number } = { x: 100, y: 30 }): Promise<TmuxSession> {
  const socket = `tsbox-test-${process.pid}-${++sessions}`;
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  tmux('new-session', '-d', '-x', String(size.x), '-y', String(size.y), 'sh', '-c', command);
  const serverPid = Number(tmux('display-message', '-p', '#{pid}').trim());
  const socketPath = tmux('display-message', '-p', '#{socket_path}').trim();
  const panePid = Number(tmux('display-message', '-p', '#{pane_pid}').trim());
  tmux('set-option', '-g', 'status', 'off');

  const until = async <T>(what: () => string, probe: () => T | null, timeoutMs: number): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = probe();
      if (found !== null) return found;
      if (Date.now() > deadline) throw new Error(what());
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  return {
    tmux,
    panePid,
    async screenShows(pattern, timeoutMs = 10_000) {
      let screen = '';
      return until(
        () => `the screen never showed ${pattern}:\n${screen}`,
        () => {
          screen = tmux('capture-pane', '-p');
          return pattern.test(screen) ? screen : null;
        },
        timeoutMs,
      );
    },
    async processRuns(argv, opts = {}) {
      return until(
        () => `no process ${JSON.stringify(argv)}${opts.running ? ' running' : ''} appeared in the pane`,
        () => findDescendant(panePid, argv, opts.running ?? false),
        opts.timeoutMs ?? 10_000,
      );
    },
    async close() {
      spawnSync('tmux', ['-L', socket, 'kill-server']);
      await until(() => `the tmux server ${serverPid} did not exit`, () => (isGone(serverPid) ? true : null), 10_000);
      rmSync(socketPath, { force: true }); // a killed server leaves its socket file behind
    },
  };
}

interface ProcInfo {
  ppid: number;
  state: string;
}

function readProc(pid: number): ProcInfo | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses; it ends at the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0]!, ppid: Number(rest[1]) };
  } catch {
    return null;
  }
}

function isGone(pid: number): boolean {
  const p = readProc(pid);
  return p === null || p.state === 'Z' || p.state === 'X';
}

function findDescendant(root: number, argv: string[], running: boolean): number | null {
  const want = `${argv.join('\0')}\0`;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmdline !== want) continue;
    const info = readProc(pid);
    if (info === null || (running && (info.state === 'T' || info.state === 't'))) continue;
    for (let p: number | undefined = info.ppid, hops = 0; p !== undefined && p > 1 && hops < 64; hops++) {
      if (p === root) return pid;
      p = readProc(p)?.ppid;
    }
  }
  return null;
}

/**
 * An engine's `run -t` through a real terminal (tsbox-runtime's console socket): `command`
 * runs `sh -c 'tty; echo done-$((6*7))'` in its container; the screen must show the
 * container's own pty, the command's output and the exit status 0.
 */
export async function expectEngineTty(command: string): Promise<void> {
  const t = await startTmux(`${command}; echo status=$?; sleep 30`);
  try {
    const screen = await t.screenShows(/status=\d+/, 30_000);
    if (!/\/dev\/pts\/0/.test(screen) || !screen.includes('done-42') || !screen.includes('status=0')) {
      throw new Error(`the terminal did not show /dev/pts/0, done-42 and status=0:\n${screen}`);
    }
  } finally {
    await t.close();
  }
}
