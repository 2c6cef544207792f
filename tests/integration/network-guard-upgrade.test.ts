/**
 * A table made by an earlier tsbox (the guard's rule in its old order) gets the current guard
 * rule from ensureTable, once, in place; a missing table is made with it. A table of this
 * test's own ("tsbg" + pid), deleted at the end.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { netContext } from '../../src/network/context.js';
import { ensureTable } from '../../src/network/networks.js';
import { GUARD_RULE, tableText } from '../../src/network/nft/ruleset.js';

const table = `tsbg${process.pid % 100000}`;
const canRun = process.getuid?.() === 0;
const OLD_GUARD = 'iifname @bridges ip daddr 127.0.0.0/8 counter drop';

/** The guard chain's rules as nft lists them, counters cut out. */
function guardRules(): string[] {
  const text = execFileSync('nft', ['list', 'chain', 'ip', table, 'guard'], { encoding: 'utf8' });
  return text.split('\n').map((l) => l.trim()).filter((l) => l.includes('daddr')).map((l) => l.replace(/ packets \d+ bytes \d+/, ''));
}

describe.skipIf(!canRun)('nft guard rule upgrade', () => {
  afterAll(() => {
    spawnSync('nft', ['delete', 'table', 'ip', table]);
  });

  it('replaces an old guard rule once and leaves the rest of the table alone', () => {
    const ctx = netContext({ table });
    execFileSync('nft', ['-f', '-'], { input: tableText(table).replace(GUARD_RULE, OLD_GUARD) });
    expect(guardRules()).toEqual([OLD_GUARD]);
    const before = execFileSync('nft', ['list', 'table', 'ip', table], { encoding: 'utf8' });
    ensureTable(ctx);
    expect(guardRules()).toEqual([GUARD_RULE]);
    ensureTable(ctx); // already current: nothing added
    expect(guardRules()).toEqual([GUARD_RULE]);
    const after = execFileSync('nft', ['list', 'table', 'ip', table], { encoding: 'utf8' });
    const withoutGuard = (t: string) => t.split('\n').filter((l) => !l.includes('127.0.0.0/8')).join('\n');
    expect(withoutGuard(after)).toBe(withoutGuard(before));
  });

  it('makes a missing table with the current guard', () => {
    spawnSync('nft', ['delete', 'table', 'ip', table]);
    ensureTable(netContext({ table }));
    expect(guardRules()).toEqual([GUARD_RULE]);
  });
});
