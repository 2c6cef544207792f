/**
 * -t against a real terminal: tsbox runs in a tmux pane (a tmux server of each test's own,
 * closed after it: tests/helpers/tmux.ts), keys are sent with send-keys and the screen
 * read with capture-pane. tmux is installed by tests/setup.sh.
 */
import { readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startTmux, type TmuxSession } from '../helpers/tmux.js';
import { rootfsTar, testRoot, tsbox as runTsbox, TSBOX_BIN } from '../helpers/tsbox.js';

let session: TmuxSession | null = null;

async function start(command: string): Promise<TmuxSession> {
  session = await startTmux(command);
  return session;
}

const stdioLinks = (pid: number) => [0, 1, 2].map((fd) => readlinkSync(`/proc/${pid}/fd/${fd}`));

afterEach(async () => {
  await session?.close();
  session = null;
});

describe('interactive shell in a terminal', () => {
  it('tty is /dev/pts/0, stty size matches, Ctrl-C reaches the foreground process, Ctrl-D ends the shell, the terminal is restored', async () => {
    // After tsbox exits, the pane's shell prints the exit status and whether the terminal is canonical again.
    const command = `TSBOX_ROOT=${testRoot()} ${TSBOX_BIN} run ${rootfsTar()} /bin/sh; echo EXIT=$?; stty -a | grep -o -- '-\\?icanon\\b' | sed 's/^/MODE=/'; sleep 60`;
    const { tmux, screenShows, processRuns } = await start(command);
    await screenShows(/^\/ #/m);
    const [rows, cols] = tmux('display', '-p', '#{pane_height} #{pane_width}').trim().split(' ');
    tmux('send-keys', 'tty; stty size; echo pid=$$', 'Enter');
    const screen = await screenShows(/pid=1/);
    expect(screen).toMatch(/^\/dev\/pts\/0$/m);
    expect(screen).toMatch(new RegExp(`^${rows} ${cols}$`, 'm'));

    tmux('send-keys', 'sleep 50', 'Enter');
    await processRuns(['sleep', '50']); // a Ctrl-C before sleep runs would reach the shell instead
    tmux('send-keys', 'C-c');
    tmux('send-keys', 'echo rc=$?', 'Enter');
    await screenShows(/^rc=130$/m);

    // The new size reaches the container when tsbox relays SIGWINCH: the shell polls for it.
    tmux('resize-window', '-x', '90', '-y', '20');
    tmux('send-keys', 'until [ "$(stty size)" = "20 90" ]; do sleep 0.05; done; echo resized-to-$(stty size | tr " " x)', 'Enter');
    await screenShows(/^resized-to-20x90$/m);

    tmux('send-keys', 'C-d');
    const end = await screenShows(/MODE=/);
    expect(end).toMatch(/^EXIT=0$/m);
    expect(end).toMatch(/^MODE=icanon$/m);
  });

  it('stdin decides: a terminal on stdin gets a pty even when stdout is a file; a pipe on stdin or --no-tty gets none', async () => {
    const out = join(inject('workDir'), `tty-default-${process.pid}.txt`);
    const run = `TSBOX_ROOT=${testRoot()} ${TSBOX_BIN} run`;
    const command = [
      `${run} ${rootfsTar()} tty > ${out}; echo A=$?; tr -d '\\r' < ${out} | sed 's/^/FILE=/'`,
      `echo | ${run} ${rootfsTar()} tty; echo B=$?`,
      `${run} --no-tty ${rootfsTar()} tty; echo C=$?`,
      'sleep 60',
    ].join('; ');
    try {
      const { screenShows } = await start(command);
      const screen = await screenShows(/^C=\d+$/m);
      expect(screen).toMatch(/^A=0$/m);
      expect(screen).toMatch(/^FILE=\/dev\/pts\/0$/m);
      expect(screen).toMatch(/^not a tty\nB=1$/m);
      expect(screen).toMatch(/^not a tty\nC=1$/m);
    } finally {
      rmSync(out, { force: true });
    }
  });

  it('--name with a terminal: the output is shown and kept for tsbox logs; rm leaves nothing', async () => {
    const name = `tty-log-${process.pid}`;
    const tsbox = `TSBOX_ROOT=${testRoot()} ${TSBOX_BIN}`;
    const command = [
      `${tsbox} run -t --name ${name} ${rootfsTar()} sh -c 'echo out; echo err >&2; exit 6'; echo A=$?`,
      `${tsbox} logs ${name} | tr -d '\\r' | sed 's/^/LOG=/'`,
      `${tsbox} rm ${name}; ${tsbox} ps -a | grep -c ${name} | sed 's/^/LEFT=/'`,
      'sleep 60',
    ].join('; ');
    const { screenShows } = await start(command);
    const screen = await screenShows(/^LEFT=\d+$/m);
    expect(screen).toMatch(/^out\nerr\nA=6$/m);
    expect(screen).toMatch(/^LOG=out\nLOG=err$/m);
    expect(screen).toMatch(/^LEFT=0$/m);
  });

  it('job control: Ctrl-Z stops the foreground job, fg resumes it', async () => {
    const command = `TSBOX_ROOT=${testRoot()} ${TSBOX_BIN} run -it ${rootfsTar()} /bin/sh; echo EXIT=$?; sleep 60`;
    const { tmux, screenShows, processRuns } = await start(command);
    await screenShows(/^\/ #/m);
    tmux('send-keys', 'sleep 30', 'Enter');
    await processRuns(['sleep', '30']);
    tmux('send-keys', 'C-z');
    await screenShows(/Stopped/i);
    tmux('send-keys', 'fg', 'Enter');
    await processRuns(['sleep', '30'], { running: true }); // continued, and the foreground job again
    tmux('send-keys', 'C-c');
    tmux('send-keys', 'jobs; echo jobs-done; exit 3', 'Enter');
    const end = await screenShows(/^EXIT=3$/m);
    expect(end).not.toMatch(/Stopped\s+sleep 30\njobs-done/);
  });

  it('--init with a terminal: the command gets the foreground, Ctrl-C reaches it', async () => {
    const command = `TSBOX_ROOT=${testRoot()} ${TSBOX_BIN} run -t --init ${rootfsTar()} /bin/sh; echo EXIT=$?; sleep 60`;
    const { tmux, screenShows, processRuns } = await start(command);
    await screenShows(/^\/ #/m);
    tmux('send-keys', 'echo pid=$$; sleep 50', 'Enter');
    await screenShows(/pid=\d+/);
    await processRuns(['sleep', '50']); // a Ctrl-C before sleep runs would reach the shell instead
    tmux('send-keys', 'C-c');
    tmux('send-keys', 'echo rc=$?', 'Enter');
    await screenShows(/^rc=130$/m);
    tmux('send-keys', 'exit 4', 'Enter');
    await screenShows(/^EXIT=4$/m);
  });

  it('without a pty the container gets pipes, never the user\'s terminal; tsbox relays both ways (issue 10, finding 4)', async () => {
    const name = `tty-relay-${process.pid}`;
    const tsbox = `TSBOX_ROOT=${testRoot()} ${TSBOX_BIN}`;
    // Distinct, unlikely command lines to find the container's processes from the host.
    const execSleep = ['sleep', String(40_000 + (process.pid % 10_000))];
    const runSleep = ['sleep', String(50_000 + (process.pid % 10_000))];
    const command = [
      `${tsbox} run -d --name ${name} ${rootfsTar()} sleep 600 >/dev/null`,
      // stdin a pipe (so no pty), stdout and stderr the terminal
      `echo | ${tsbox} exec ${name} sh -c 'echo exec-out; echo exec-err >&2; exec ${execSleep.join(' ')}'; echo A=$?`,
      // stdin the terminal, --no-tty
      `${tsbox} run --rm --no-tty ${rootfsTar()} sh -c 'echo run-out; read line; echo got=$line; exec ${runSleep.join(' ')}'; echo B=$?`,
      'sleep 60',
    ].join('; ');
    try {
      const { tmux, screenShows, processRuns } = await start(command);
      const exec = await processRuns(execSleep, { timeoutMs: 15_000 });
      const execFds = stdioLinks(exec);
      process.kill(exec, 'SIGKILL');
      await screenShows(/^A=137$/m);
      await screenShows(/^run-out$/m);
      tmux('send-keys', 'typed-line', 'Enter');
      const run = await processRuns(runSleep, { timeoutMs: 15_000 });
      const runFds = stdioLinks(run);
      process.kill(run, 'SIGKILL');
      const screen = await screenShows(/^B=137$/m);
      expect(screen).toMatch(/^exec-out$/m);
      expect(screen).toMatch(/^exec-err$/m);
      expect(screen).toMatch(/^got=typed-line$/m);
      for (const link of [...execFds, ...runFds]) expect(link).toMatch(/^pipe:\[\d+\]$/);
    } finally {
      await runTsbox(['rm', '-f', name]);
    }
  });

  it('exec -it: the command leads its session on the container\'s pty (as root and as another user); Ctrl-C, resize and the exit status work', async () => {
    const name = `tty-exec-${process.pid}`;
    const tsbox = `TSBOX_ROOT=${testRoot()} ${TSBOX_BIN}`;
    const asNobody = `${tsbox} exec -it -u nobody ${name} sh -c 'echo nobody-tty=$(tty) sid=$(cut -d" " -f6 /proc/$$/stat) pid=$$'; echo EXIT2=$?`;
    const command = `${tsbox} run -d --name ${name} ${rootfsTar()} sleep 600 >/dev/null; ${tsbox} exec -it ${name} /bin/sh; echo EXIT=$?; ${asNobody}; sleep 60`;
    try {
      const { tmux, screenShows, processRuns } = await start(command);
      await screenShows(/^\/ #/m);
      tmux('send-keys', 'tty; echo sid=$(cut -d" " -f6 /proc/$$/stat) pid=$$', 'Enter');
      const screen = await screenShows(/sid=\d+ pid=\d+/);
      expect(screen).toMatch(/^\/dev\/pts\/\d+$/m);
      const [, sid, pid] = /sid=(\d+) pid=(\d+)/.exec(screen)!;
      expect(sid).toBe(pid); // its own session, with the pty as its controlling terminal
      tmux('send-keys', 'sleep 51', 'Enter');
      await processRuns(['sleep', '51']); // a Ctrl-C before sleep runs would reach the shell instead
      tmux('send-keys', 'C-c');
      tmux('send-keys', 'echo rc=$?', 'Enter');
      await screenShows(/^rc=130$/m);
      tmux('resize-window', '-x', '90', '-y', '20');
      tmux('send-keys', 'until [ "$(stty size)" = "20 90" ]; do sleep 0.05; done; echo resized-to-$(stty size | tr " " x)', 'Enter');
      await screenShows(/^resized-to-20x90$/m);
      tmux('send-keys', 'exit 7', 'Enter');
      await screenShows(/^EXIT=7$/m);
      // Another user: the pty becomes that user's, and still its controlling terminal.
      const nobody = await screenShows(/^EXIT2=\d+$/m);
      expect(nobody).toMatch(/^EXIT2=0$/m);
      const m = /nobody-tty=(\S+) sid=(\d+) pid=(\d+)/.exec(nobody)!;
      expect(m[1]).toMatch(/^\/dev\/pts\/\d+$/);
      expect(m[2]).toBe(m[3]);
    } finally {
      await runTsbox(['rm', '-f', name]);
    }
  });
});
