/**
 * An attack on --pid container:NAME: NAME's processes see the joiner's init from its first
 * instruction, while it is node with the host's root and no SIGUSR1 listener yet. The
 * attacker (NAME, root in its container, CAP_KILL by default) sends SIGUSR1 to every new
 * process it sees: Node then starts its inspector on 127.0.0.1:9229 of the init's network
 * namespace; with --network container:NAME that is the attacker's own, and a connection there
 * runs JavaScript as the host's root. Before the fix this listened in NAME's namespace in 2
 * of 6 runs (and the inspector's banner shows it); the init must now be born in a fresh
 * network namespace (joining NAME's itself once safe) and refuse to go on with an inspector.
 *
 * Watched from the host: /proc/<NAME's pid>/net/tcp is NAME's network namespace's socket table.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { rootfsTar, tsbox } from '../helpers/tsbox.js';

const ROOT = () => join(inject('workDir'), 'ns-attack-root');
const t = (args: string[]) => tsbox(args, { root: ROOT(), timeoutMs: 60_000 });
const NAME = `sigusr${process.pid}`;
// 9229 = 0x240D; state 0A = LISTEN.
const LISTENING = /^\s*\d+: [0-9A-F]{8}:240D [0-9A-F]{8}:0000 0A /m;

afterAll(async () => {
  await t(['rm', '-f', NAME]);
});

describe('--pid container:NAME against a hostile NAME', () => {
  it('an inspector started by SIGUSR1 during the joiner\'s start-up is never reachable from NAME, and the run does not go on', async () => {
    // The attacker: SIGUSR1 to every process whose name is node's (the joiner's init, until it execs).
    const attacker = 'while :; do for d in /proc/[0-9]*; do read c < $d/comm 2>/dev/null; case "$c" in node|MainThread|tsbox) kill -USR1 ${d#/proc/} 2>/dev/null;; esac; done; done';
    const r = await t(['run', '-d', '--name', NAME, rootfsTar(), 'sh', '-c', attacker]);
    expect(r.code, r.stderr).toBe(0);
    const pid = Number((JSON.parse((await t(['inspect', NAME])).stdout) as { pid: number }[])[0]!.pid);

    let seen = false;
    let watching = true;
    const watch = (async () => {
      while (watching) {
        try {
          if (LISTENING.test(readFileSync(`/proc/${pid}/net/tcp`, 'utf8'))) seen = true;
        } catch {
          // the attacker exited: the test fails below on its own
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const outcomes: string[] = [];
    try {
      for (let i = 0; i < 8; i++) {
        const j = await t(['run', '--pid', `container:${NAME}`, '--network', `container:${NAME}`, rootfsTar(), 'true']);
        outcomes.push(`${j.code}: ${j.stderr.trim().split('\n').at(-1)}`);
        // Killed by the signal (a denial of service NAME can always do) or refused; never run with a debugger.
        expect([0, 125], j.stderr).toContain(j.code);
        if (/Debugger listening/.test(j.stderr)) expect(j.code, j.stderr).toBe(125);
      }
    } finally {
      watching = false;
      await watch;
    }
    expect(seen, `an inspector listened in ${NAME}'s network namespace; runs: ${outcomes.join(' | ')}`).toBe(false);
  }, 240_000);
});
