/**
 * The route_localnet guard is the one rule of tsbox's table that every packet entering the
 * host meets (prerouting, priority raw): its cheap test (the destination) must come before
 * the set lookup, and a table made by an earlier tsbox must get the same rule in place.
 */
import { describe, expect, it } from 'vitest';
import { GUARD_RULE, guardUpgradeText, hasCurrentGuard, tableText } from '../../src/network/nft/ruleset.js';

/** The guard chain's body, as tableText writes it. */
function guardChain(text: string): string[] {
  const start = text.indexOf('chain guard {');
  const body = text.slice(start, text.indexOf('}', start));
  return body.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('chain') && !l.startsWith('type'));
}

describe('route_localnet guard rule', () => {
  it('tests the destination before looking the input interface up in @bridges', () => {
    const rules = guardChain(tableText('tsbox'));
    expect(rules).toEqual([GUARD_RULE]);
    const [rule] = rules;
    expect(rule!.indexOf('ip daddr 127.0.0.0/8')).toBe(0);
    expect(rule!.indexOf('ip daddr 127.0.0.0/8')).toBeLessThan(rule!.indexOf('iifname @bridges'));
    // Still the same drop: every packet from a tsbox bridge to 127.0.0.0/8, counted.
    expect(rule).toMatch(/iifname @bridges counter drop$/);
    expect(tableText('tsbox')).toContain('type filter hook prerouting priority raw; policy accept;');
  });

  it('knows an old table by its listing and swaps the rule in one transaction', () => {
    const old = `table ip tsbox {
\tchain guard {
\t\ttype filter hook prerouting priority raw; policy accept;
\t\tiifname @bridges ip daddr 127.0.0.0/8 counter packets 3 bytes 180 drop
\t}
}`;
    const current = old.replace('iifname @bridges ip daddr 127.0.0.0/8', 'ip daddr 127.0.0.0/8 iifname @bridges');
    expect(hasCurrentGuard(old)).toBe(false);
    expect(hasCurrentGuard(current)).toBe(true);
    expect(hasCurrentGuard('')).toBe(false);
    expect(guardUpgradeText('tsbox')).toBe(`flush chain ip tsbox guard\nadd rule ip tsbox guard ${GUARD_RULE}\n`);
    expect(() => guardUpgradeText('bad name')).toThrow('invalid nft table name');
  });
});
