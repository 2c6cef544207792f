/**
 * The file operations the manager performs on cgroupfs, behind an interface so that unit
 * tests can give it an in-memory double (which can be told to fail) instead of needing root.
 * Errors are Node's own (err.code is the errno name).
 */
import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, statSync, writeSync } from 'node:fs';

export interface CgroupFs {
  read(path: string): string;
  /** One write(2) of the whole value, as cgroupfs requires; never creates the file. */
  write(path: string, value: string): void;
  /** Not recursive: fails with EEXIST when the directory exists. */
  mkdir(path: string): void;
  rmdir(path: string): void;
  exists(path: string): boolean;
  /** Names of the subdirectories (child groups). */
  listDirs(path: string): string[];
  isWritable(path: string): boolean;
  kill(pid: number, signal: NodeJS.Signals): void;
  /** When a group was made (its directory's mtime). */
  mtimeMs(path: string): number;
  /** /proc/self/mountinfo */
  mountinfo(): string;
  /** /proc/self/cgroup */
  selfCgroup(): string;
}

export const nodeCgroupFs: CgroupFs = {
  read: (path) => readFileSync(path, 'utf8'),
  write(path, value) {
    // O_WRONLY only: O_CREAT/O_TRUNC mean nothing here, and O_RDWR fails on write-only files (cgroup.kill).
    const fd = openSync(path, constants.O_WRONLY);
    try {
      writeSync(fd, value);
    } finally {
      closeSync(fd);
    }
  },
  mkdir: (path) => mkdirSync(path),
  rmdir: (path) => rmdirSync(path),
  exists: (path) => existsSync(path),
  listDirs: (path) =>
    readdirSync(path, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name),
  isWritable(path) {
    try {
      accessSync(path, constants.W_OK);
      return true;
    } catch {
      return false;
    }
  },
  kill: (pid, signal) => process.kill(pid, signal),
  mtimeMs: (path) => statSync(path).mtimeMs,
  mountinfo: () => readFileSync('/proc/self/mountinfo', 'utf8'),
  selfCgroup: () => readFileSync('/proc/self/cgroup', 'utf8'),
};

/** "EINVAL (invalid argument)" for a Node fs error, for messages. */
export function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (!e?.code) return String(err);
  const meaning = /^[A-Z]+: ([^,]+),/.exec(e.message)?.[1];
  return meaning ? `${e.code} (${meaning})` : e.code;
}
