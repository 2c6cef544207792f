/**
 * --stats-file: tsbox runs as root and the file is often named in a directory others can
 * write to (/tmp, a shared CI workspace). Whatever is already at that name may have been
 * put there by someone else, so it is written only if it is what tsbox itself would have
 * made: a regular file of the caller's, with one link. Never through a symlink (O_NOFOLLOW:
 * a planted link would make root overwrite its target), never a FIFO or device (opened
 * O_NONBLOCK, so a FIFO without a reader fails at once instead of hanging), never a hard
 * link (another name of a file elsewhere), never another user's file.
 *
 * Why not a temporary file renamed over the name: in a directory others control the
 * temporary name is theirs to race for, the rename replaces whatever they put at the final
 * name (root is exempt from the sticky bit), and an interrupted run leaves the temporary
 * behind. The report is a few hundred bytes written in one write(2) after a truncate; a
 * reader racing the end of the run may see it empty, never another file's content.
 */
import { closeSync, constants, fstatSync, ftruncateSync, lstatSync, openSync, writeSync, type Stats } from 'node:fs';
import { statsRecord } from '../cgroups/stats.js';
import { TsboxError, UsageError } from '../errors.js';
import type { RunSpec } from '../spec/run-spec.js';
import type { RunResult } from './run.js';

const STEP = 'write stats file';
const HINT = 'Remove it, or name a new file in a directory only you can write to.';

export interface ExistingFile {
  kind: 'file' | 'symlink' | 'directory' | 'other';
  uid: number;
  nlink: number;
}

/** Why an existing `file` must not be written by a caller with effective uid `euid`, or null. */
export function statsFileProblem(file: ExistingFile, euid: number): string | null {
  if (file.kind === 'symlink') return 'it is a symbolic link, which tsbox does not follow';
  if (file.kind === 'directory') return 'it is a directory';
  if (file.kind !== 'file') return 'it is not a regular file';
  if (file.uid !== euid) return `it belongs to uid ${file.uid}, not to the caller (uid ${euid})`;
  if (file.nlink !== 1) return `it has ${file.nlink} hard links`;
  return null;
}

const describe = (st: Stats): ExistingFile => ({
  kind: st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'directory' : st.isFile() ? 'file' : 'other',
  uid: st.uid,
  nlink: st.nlink,
});

const euid = (): number => process.geteuid?.() ?? 0;

/** Before anything is created: refuse a name that already holds something tsbox would not write. */
export function checkStatsFile(path: string): void {
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return; // created at the end, O_EXCL-free but O_NOFOLLOW
    throw new UsageError(`cannot use --stats-file ${path}: ${code}`, { hint: 'Check the path given to --stats-file.' });
  }
  const problem = statsFileProblem(describe(st), euid());
  if (problem) throw new UsageError(`refusing --stats-file ${path}: ${problem}`, { hint: HINT });
}

/** Write `text` to `path` under the rules above; the checks are made on the opened fd. */
export function writeStatsFile(path: string, text: string): void {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o644); // libuv adds O_CLOEXEC
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ELOOP' ? 'it is a symbolic link, which tsbox does not follow' : code === 'ENXIO' ? 'it is a FIFO' : code === 'EISDIR' ? 'it is a directory' : String(code);
    throw new TsboxError(`refusing --stats-file ${path}: ${why}`, { step: STEP, hint: HINT, cause: err });
  }
  try {
    const problem = statsFileProblem(describe(fstatSync(fd)), euid());
    if (problem) throw new TsboxError(`refusing --stats-file ${path}: ${problem}`, { step: STEP, hint: HINT });
    ftruncateSync(fd, 0);
    const data = Buffer.from(text);
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off);
  } finally {
    closeSync(fd);
  }
}

/**
 * The resource report of a run, as one JSON document, written under the rules above once
 * the container has exited: by tsbox run in the foreground, by the monitor with -d.
 * Unmeasured values are null (cgroups/stats.ts).
 */
export function writeStatsReport(spec: RunSpec, result: RunResult): void {
  if (!spec.report.statsFile) return;
  const record = { id: result.id, exitCode: result.exitCode, oomKilled: result.oomKilled, ...statsRecord(result.stats, result.wallMs), netRxBytes: result.network?.rxBytes ?? null, netTxBytes: result.network?.txBytes ?? null };
  writeStatsFile(spec.report.statsFile, `${JSON.stringify(record, null, 2)}\n`);
}
