import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';

describe('the program built for one command', () => {
  const all = buildProgram().commands.map((c) => c.name());

  it('has every command when none is named, or the name is not a command', () => {
    expect(all).toContain('run');
    expect(all.length).toBeGreaterThan(25);
    expect(buildProgram('--help').commands.map((c) => c.name())).toEqual(all);
    expect(buildProgram('rnu').commands.map((c) => c.name())).toEqual(all);
  });

  it('has exactly the named command, for each command (the table names them right)', () => {
    for (const name of all) expect(buildProgram(name).commands.map((c) => c.name())).toEqual([name]);
  });
});
