/**
 * Every example of docs/api.md, run as its own ES module against real containers, so the
 * documentation cannot drift from the API: each ```js block must exit 0 with nothing on
 * stderr, and print exactly the ```text block that follows it (when there is one).
 *
 * The examples import 'tsbox' as a user would: a scratch directory gets node_modules/tsbox
 * linked to this package. './busybox.tar' becomes the suite's rootfs and TSBOX_ROOT its
 * state root; containers an example leaves (it failed half way) are removed afterwards.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { rootfsTar, testRoot, tsbox } from '../helpers/tsbox.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const doc = readFileSync(join(repo, 'docs/api.md'), 'utf8');

interface Example {
  line: number;
  code: string;
  expected: string | null;
}

/** The ```js blocks, each with the ```text block right after it, if any. */
function examples(markdown: string): Example[] {
  const blocks = [...markdown.matchAll(/^```(\w+)\n([\s\S]*?)^```\n/gm)].map((m) => ({ lang: m[1]!, body: m[2]!, start: m.index!, end: m.index! + m[0].length }));
  const out: Example[] = [];
  blocks.forEach((b, i) => {
    if (b.lang !== 'js' || !/^import /m.test(b.body) || !b.body.includes('./busybox.tar')) return;
    const next = blocks[i + 1];
    const follows = next?.lang === 'text' && markdown.slice(b.end, next.start).trim() === '';
    out.push({ line: markdown.slice(0, b.start).split('\n').length, code: b.body, expected: follows ? next.body : null });
  });
  return out;
}

const scratch = mkdtempSync('/var/tmp/tsbox-api-docs-');
mkdirSync(join(scratch, 'node_modules'));
symlinkSync(repo, join(scratch, 'node_modules', 'tsbox'));

afterAll(async () => {
  rmSync(scratch, { recursive: true, force: true });
});

function runExample(file: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [file], { cwd: scratch, env: { ...process.env, TSBOX_ROOT: testRoot() }, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

async function docContainers(): Promise<string[]> {
  const r = await tsbox(['ps', '-a', '--format', 'json']);
  return r.stdout.trim().split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { name: string | null }).name ?? '').filter((n) => n.startsWith('ci-'));
}

describe('docs/api.md', () => {
  const found = examples(doc);

  it('has an example for every exported function', () => {
    const code = found.map((e) => e.code).join('\n');
    for (const fn of ['run', 'runDetached', 'exec', 'ps', 'inspect', 'logs', 'stop', 'kill', 'rm', 'wait', 'stats']) {
      expect(code, fn).toMatch(new RegExp(`\\b${fn}\\(`));
    }
  });

  for (const [i, ex] of found.entries()) {
    it(`example at docs/api.md:${ex.line} runs and prints what the doc says`, async () => {
      const file = join(scratch, `example-${i}.mjs`);
      writeFileSync(file, ex.code.replaceAll("'./busybox.tar'", JSON.stringify(rootfsTar())));
      try {
        const r = await runExample(file);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        if (ex.expected !== null) expect(r.stdout).toBe(ex.expected);
      } finally {
        for (const name of await docContainers()) await tsbox(['rm', '-f', name]);
      }
    });
  }
});
