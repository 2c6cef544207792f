/**
 * docs/how-containers-work.md is tested: every ```sh tutorial block runs, in document order,
 * as root with the built CLI first on PATH, a private state root and a scratch working
 * directory, and each command's output must be what the lesson says you should see (the
 * convention: tests/helpers/tutorial.ts). Blocks that need what this host lacks are skipped
 * with the reason; the --explain ones run once `tsbox run --help` offers --explain.
 * TSBOX_TUTORIAL=FILE tests another copy of the document (to see it fail when it drifts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { findCgroup2Mount } from '../../src/cgroups/index.js';
import { matchLine, matchOutput, parseTutorial, type TutorialBlock } from '../helpers/tutorial.js';
import { TSBOX_BIN } from '../helpers/tsbox.js';
import { vmUnavailableReason } from '../vm/vm.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '../..');
const DOC = process.env.TSBOX_TUTORIAL || join(REPO, 'docs/how-containers-work.md');
const text = readFileSync(DOC, 'utf8');
const blocks = parseTutorial(text);

const work = () => join(inject('workDir'), 'tutorial');
const root = () => join(inject('workDir'), 'tutorial-root');
const env = () => ({
  ...process.env,
  PATH: `${join(REPO, 'bin')}:${process.env.PATH}`,
  TSBOX_ROOT: root(),
  TSBOX_SRC: REPO,
});

function sh(command: string, timeoutMs = 120_000): { out: string; status: number | null } {
  // stdout and stderr together, in the order written, as on a terminal.
  const r = spawnSync('bash', ['-c', `exec 2>&1\n${command}`], { cwd: work(), env: env(), encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error) throw r.error;
  return { out: r.stdout, status: r.status };
}

function cgroupKind(): 'hybrid' | 'unified' {
  const mount = findCgroup2Mount(readFileSync('/proc/self/mountinfo', 'utf8'));
  const controllers = mount ? readFileSync(join(mount, 'cgroup.controllers'), 'utf8') : '';
  return /\bmemory\b/.test(controllers) ? 'unified' : 'hybrid';
}

/** Why a block cannot run here, or null. */
function skipReason(b: TutorialBlock): string | null {
  const needs = b.attrs.needs;
  if (needs === 'explain') {
    const help = spawnSync(TSBOX_BIN, ['run', '--help'], { encoding: 'utf8' }).stdout;
    return help.includes('--explain') ? null : 'tsbox run has no --explain yet (enable by merging its branch: these blocks then run)';
  }
  if (needs === 'vm') return vmUnavailableReason();
  if (needs === 'runtime') return existsSync(join(REPO, 'bin/tsbox-runtime')) ? null : 'bin/tsbox-runtime is not built yet';
  if (needs !== undefined) return `unknown needs=${needs}`;
  if (b.attrs.host !== undefined && b.attrs.host !== cgroupKind()) return `for a ${b.attrs.host} cgroup host; this one is ${cgroupKind()}`;
  return null;
}

describe('the tutorial convention', () => {
  it('matches literally, whitespace runs loosely, <name> once per value, ... for lines or text', () => {
    const names = new Map<string, string>();
    expect(matchOutput(['<kernel>', '<kernel>'], ['6.1.0', '6.1.0'], names)).toBeNull();
    expect(names.get('kernel')).toBe('6.1.0');
    expect(matchOutput(['<kernel>'], ['6.18.0'], names)).not.toBeNull(); // bound in this block
    expect(matchOutput(['a', '...', 'z'], ['a', 'b', 'c', 'z'], new Map())).toBeNull();
    expect(matchOutput(['a', 'z'], ['a', 'b', 'z'], new Map())).not.toBeNull();
    expect(matchLine('pid  pid:[<its ns>]  pid:[<host ns>]  own', 'pid        pid:[4026532468]     pid:[4026531836]     own', new Map())).not.toBeNull();
    expect(matchLine('pid:[<x>] pid:[<x>]', 'pid:[1] pid:[2]', new Map())).toBeNull();
    expect(matchLine('1: lo: <LOOPBACK,UP,LOWER_UP> ...', '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536', new Map())).not.toBeNull();
  });

  it('finds the lessons\' commands, and every src/ path the document links exists', () => {
    expect(blocks.length).toBeGreaterThan(10);
    for (const path of text.match(/\]\(\.\.\/(src|tests|bin|docs)\/[^)#]*\)/g) ?? []) {
      const rel = path.slice(2, -1).replace(/^\.\.\//, '');
      expect(existsSync(join(REPO, rel)), `${rel} (linked from the tutorial)`).toBe(true);
    }
  });
});

describe(`the tutorial (${DOC.replace(`${REPO}/`, '')})`, () => {
  mkdirSync(work(), { recursive: true });
  afterAll(() => {
    // Whatever a lesson left running (it should not): removed, so nothing stays behind.
    const left = sh('tsbox ps -a --format "{{.Names}}" 2>/dev/null || true').out.trim();
    if (left) sh(`tsbox rm -f ${left.split('\n').join(' ')}`);
    expect(left, 'containers the lessons left behind').toBe('');
  });
  for (const b of blocks) {
    const reason = skipReason(b);
    const title = `${b.section}, line ${b.line}${b.attrs.needs ? ` (needs ${b.attrs.needs})` : ''}${b.attrs.host ? ` (${b.attrs.host} host)` : ''}`;
    if (reason) {
      it.skip(`${title}: ${reason}`, () => {});
      continue;
    }
    it(title, () => {
      const names = new Map<string, string>();
      for (const c of b.commands) {
        const { out, status } = sh(c.command, b.attrs.needs === 'vm' ? 600_000 : 120_000);
        const lines = out.replace(/\n$/, '').split('\n').filter((l, i, all) => !(all.length === 1 && l === ''));
        const where = `${DOC}:${c.line}: $ ${c.command}`;
        expect(status, `${where}\n${out}`).toBe(c.exit);
        if (c.expected.length > 0) {
          const mismatch = matchOutput(c.expected, lines, names);
          expect(mismatch, `${where}: ${mismatch}`).toBeNull();
        }
      }
    }, b.attrs.needs === 'vm' ? 700_000 : 300_000);
  }
});
