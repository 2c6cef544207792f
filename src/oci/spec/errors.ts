/**
 * The one error of this module: a config.json (or process.json, resources.json) that tsbox
 * cannot run, said in one line that names the JSON path, e.g.
 *   config.json: process.args: expected an array of strings
 * It is a UsageError (exit 125): the bundle is the caller's input, and nothing was created.
 */
import { UsageError } from '../../errors.js';

export class OciSpecError extends UsageError {
  /** "process.args", "mounts[3].destination"; '' for the document as a whole. */
  readonly jsonPath: string;

  constructor(file: string, jsonPath: string, what: string, hint?: string) {
    super(`${file}: ${jsonPath ? `${jsonPath}: ` : ''}${what}`, hint === undefined ? {} : { hint });
    this.jsonPath = jsonPath;
  }
}

/** ['mounts', 3, 'destination'] -> "mounts[3].destination". */
export function formatJsonPath(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** The fix a refused user namespace or uid/gid mapping names: on the engine's side, where it was asked for. */
export const USERNS_FIX = 'Run the container without a user namespace: podman as root without --userns, --uidmap or --gidmap; Kubernetes with hostUsers: true (the default).';

/** The file name errors carry: config.json unless a command read another document (exec --process, update --resources). */
export const CONFIG_FILE = 'config.json';

/** A function that throws an OciSpecError for a path of one document: fail('process.cwd', 'must be absolute'). */
export type Fail = (jsonPath: string, what: string, hint?: string) => OciSpecError;

export function failIn(file: string): Fail {
  return (jsonPath, what, hint) => new OciSpecError(file, jsonPath, what, hint);
}
