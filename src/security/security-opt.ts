/**
 * docker's --security-opt values that concern this module:
 *   seccomp=unconfined | seccomp=FILE.json   (also docker's older "seccomp:..." spelling)
 *   no-new-privileges[=true|false]
 * The profile file is read and JSON-parsed here; its content is checked by buildSecurityPlan.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import type { SecurityOptions } from './plan.js';

export interface SecurityOptOverrides {
  noNewPrivileges?: boolean;
  seccomp?: SecurityOptions['seccomp'];
}

const HINT = 'Use seccomp=unconfined, seccomp=PROFILE.json, or no-new-privileges[=true|false].';

export function parseSecurityOpts(values: readonly string[], readFile: (path: string) => string = (p) => readFileSync(p, 'utf8')): SecurityOptOverrides {
  const out: SecurityOptOverrides = {};
  for (const raw of values) {
    const m = /^([a-z-]+)(?:[=:](.*))?$/s.exec(raw.trim());
    const [key, value] = m ? [m[1]!, m[2]] : ['', undefined];
    switch (key) {
      case 'no-new-privileges':
        out.noNewPrivileges = parseBool(raw, value);
        break;
      case 'seccomp':
        if (!value) throw new UsageError(`--security-opt ${raw}: missing the profile`, { hint: HINT });
        out.seccomp = value === 'unconfined' ? { kind: 'unconfined' } : { kind: 'profile', profile: readProfile(value, readFile), source: value };
        break;
      case 'apparmor':
      case 'label':
      case 'systempaths':
        throw new UsageError(`--security-opt ${raw}: ${key} is not supported by tsbox`, { hint: HINT });
      default:
        throw new UsageError(`--security-opt ${raw}: unknown option`, { hint: HINT });
    }
  }
  return out;
}

function parseBool(raw: string, value: string | undefined): boolean {
  if (value === undefined || value === '' || value === 'true') return true;
  if (value === 'false') return false;
  throw new UsageError(`--security-opt ${raw}: expected true or false`, { hint: HINT });
}

function readProfile(path: string, readFile: (path: string) => string): unknown {
  let text: string;
  try {
    text = readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read seccomp profile ${path}: ${code ?? (err as Error).message}`, { hint: 'Pass the path of a docker seccomp JSON profile, or seccomp=unconfined.', cause: err });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(`seccomp profile ${path} is not valid JSON: ${(err as Error).message}`, { hint: 'Check the file with a JSON validator (jq . FILE).', cause: err });
  }
}
