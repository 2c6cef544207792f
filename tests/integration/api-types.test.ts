/**
 * The API's types as a TypeScript user gets them: tests/types/api-usage.ts, compiled
 * against the build's declarations (dist/index.d.ts, found through package.json "types"),
 * must type-check, and each misuse marked @ts-expect-error must be refused.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../..', import.meta.url));

describe('the API\'s declarations', () => {
  it('are built, and type-check a user\'s code (and refuse its misuses)', async () => {
    expect(existsSync(`${repo}/dist/index.d.ts`)).toBe(true);
    const tsc = `${repo}/node_modules/.bin/tsc`;
    const r = await new Promise<{ code: number; out: string }>((resolve) =>
      execFile(tsc, ['-p', 'tests/types/tsconfig.json'], { cwd: repo }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: stdout + stderr })),
    );
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
  });
});
