/** tsbox inspect NAME...: the record, the spec, and the live mounts of each container, as JSON. */
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { describeSecurityPlan } from '../../security/index.js';
import type { RunSpec } from '../../spec/run-spec.js';
import { storeFor } from '../container-args.js';
import { addCommonOptions, type CommonOptions } from '../options.js';
import { writeLine } from '../render-error.js';

export function inspectCommand(): Command {
  const cmd = new Command('inspect')
    .description('show everything tsbox knows about containers, as JSON')
    .argument('<container...>', 'names, ids or unique id prefixes')
    .action((refs: string[], flags: CommonOptions) => {
      const store = storeFor(flags.root);
      const out = refs.map((ref) => {
        const r = store.resolve(ref);
        const paths = store.paths(r.shortId);
        const spec = readJson<RunSpec>(paths.spec);
        return {
          ...r,
          stateDir: paths.dir,
          log: r.keep ? paths.log : null,
          mounts: r.status === 'running' && r.pid ? liveMounts(r.pid) : [],
          spec: spec ? { ...spec, security: describeSecurityPlan(spec.security) } : null,
        };
      });
      writeLine(1, JSON.stringify(out, null, 2));
    });
  return addCommonOptions(cmd);
}

function readJson<T>(path: string): T | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return null;
  }
}

/** What is mounted in the container, from its PID 1's mountinfo: target, type, source, options. */
function liveMounts(pid: number): { target: string; type: string; source: string; options: string }[] {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/mountinfo`, 'utf8');
  } catch {
    return [];
  }
  return text.trim().split('\n').map((line) => {
    const [left, right = ''] = line.split(' - ');
    const f = left!.split(' ');
    const [type = '', source = ''] = right.split(' ');
    return { target: f[4] ?? '', type, source, options: f[5] ?? '' };
  });
}
