/**
 * Who the command runs as, where and what, resolved by both inits inside the container's
 * root while they are still host root: the user (from the container's /etc/passwd and
 * /etc/group), HOME, the working directory (resolved in the root), the command's path.
 */
import { accessSync, closeSync, constants, fstatSync, readSync, statSync } from 'node:fs';
import { InRoot, type InRootSys } from '../fs/in-root/resolver.js';
import { linuxInRootSys } from '../mounts/apply.js';
import { openDirPath, openReadAt, openReadInRoot } from '../sys/in-root.js';
import type { SysError } from '../sys/sys-error.js';
import { resolveCommand, type CommandFs } from './command.js';
import { readContainerFile, type ContainerFileSys } from './container-file.js';
import type { InitSteps } from './init-steps.js';
import type { ProcessPlan } from './protocol.js';
import type { ResolvedUser } from './users.js';
import { resolveProcessUser } from './process-settings.js';
import { enterWorkingDirectoryInRoot } from './workdir.js';

export interface ResolvedProcess {
  user: ResolvedUser;
  env: string[];
  /** The command's path, found as execve will find it. */
  path: string;
}

/**
 * The working directory is entered here (CVE-2024-21626: see workdir.ts); `workdirSys` is
 * the resolver's view of the kernel, which the exec-init adjusts (its /proc has no "self").
 */
export function resolveProcess(steps: InitSteps, process: ProcessPlan, workdirSys: InRootSys = linuxInRootSys): ResolvedProcess {
  const user = steps.step('resolve user', () => resolveProcessUser(process, readEtcFile));
  const env = withHome(process.env, user);
  steps.step('set working directory', () => enterWorkingDirectoryInRoot(process.cwd, workdirSys));
  const path = steps.step('find command', () => resolveCommandAs(process.args[0]!, env, user));
  return { user, env, path };
}

/**
 * The container's /etc/passwd or /etc/group, read while we are still host root: only as a
 * regular file of bounded size inside the root (container-file.ts says why). null if missing.
 */
export function readEtcFile(path: string): string | null {
  return readContainerFile(path, linuxContainerFileSys);
}

const linuxContainerFileSys: ContainerFileSys = {
  openRead(path) {
    const root = openDirPath('/');
    try {
      return openReadInRoot(root, path);
    } catch (err) {
      if ((err as SysError).code !== 'ENOSYS') throw err;
      // Before Linux 5.6: the directory resolved inside "/" (the container's root here) by
      // the userspace walk, the last component opened in it without following it.
      const [dirFd, name] = openParentInRoot(root, path);
      try {
        return openReadAt(dirFd, name);
      } finally {
        closeSync(dirFd);
      }
    } finally {
      closeSync(root);
    }
  },
  fstat(fd) {
    const st = fstatSync(fd);
    return { mode: st.mode, size: st.size };
  },
  read: (fd, buf, offset, length) => readSync(fd, buf, offset, length, null),
  close: closeSync,
};

/** The directory of `path` (resolved in the root) as an fd we hold, and the last name. */
function openParentInRoot(rootFd: number, path: string): [number, string] {
  const parts = path.split('/').filter((p) => p !== '');
  return [new InRoot(rootFd, linuxInRootSys, '/').openDir(parts.slice(0, -1)), parts.at(-1) ?? '.'];
}

export function withHome(env: string[], user: ResolvedUser): string[] {
  return env.some((e) => e.startsWith('HOME=')) ? env : [...env, `HOME=${user.home}`];
}

const containerFs: CommandFs = {
  kind(path) {
    try {
      return statSync(path).isDirectory() ? 'dir' : 'file';
    } catch {
      return 'missing';
    }
  },
  executable(path) {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  },
};

/**
 * The init still runs as root here, and access(X_OK) is always true for root on a file with
 * any x bit; a non-root user needs the bits that apply to it, which is what execve will check.
 */
export function resolveCommandAs(name: string, env: string[], user: ResolvedUser): string {
  if (user.uid === 0) return resolveCommand(name, env, containerFs);
  return resolveCommand(name, env, {
    kind: containerFs.kind,
    executable(path) {
      try {
        const st = statSync(path);
        const bits = st.uid === user.uid ? 0o100 : st.gid === user.gid || user.additionalGids.includes(st.gid) ? 0o010 : 0o001;
        return (st.mode & bits) !== 0;
      } catch {
        return false;
      }
    },
  });
}
