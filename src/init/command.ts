/**
 * Finding the command to execute inside the container, with docker's exit statuses:
 * 127 when it does not exist, 126 when it exists but cannot be executed.
 * Runs in the init after pivot_root, so paths are the container's.
 */
import { CommandError, EXIT_NOT_EXECUTABLE, EXIT_NOT_FOUND } from '../errors.js';

export interface CommandFs {
  /** 'file' | 'dir' | 'missing', following symlinks. */
  kind(path: string): 'file' | 'dir' | 'missing';
  /** Whether the caller may execute it (access(X_OK)). */
  executable(path: string): boolean;
}

export function pathFromEnv(env: readonly string[]): string {
  const entry = env.find((e) => e.startsWith('PATH='));
  return entry ? entry.slice(5) : '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
}

export function resolveCommand(name: string, env: readonly string[], fs: CommandFs): string {
  if (name.includes('/')) {
    checkCandidate(name, fs, true);
    return name;
  }
  let notExecutable: string | null = null;
  for (const dir of pathFromEnv(env).split(':')) {
    const candidate = `${dir || '.'}/${name}`;
    const kind = fs.kind(candidate);
    if (kind !== 'file') continue;
    if (fs.executable(candidate)) return candidate;
    notExecutable ??= candidate; // as execvp: remember it, but keep looking for an executable one
  }
  if (notExecutable) throw notExecutableError(notExecutable);
  throw new CommandError(`${name}: command not found in the container (PATH=${pathFromEnv(env)})`, {
    step: 'find command',
    exitCode: EXIT_NOT_FOUND,
    hint: 'Check the command name, or give its full path inside the image.',
  });
}

function checkCandidate(path: string, fs: CommandFs, explicit: boolean): void {
  const kind = fs.kind(path);
  if (kind === 'missing') {
    throw new CommandError(`${path}: no such file or directory in the container`, {
      step: 'find command',
      exitCode: EXIT_NOT_FOUND,
      hint: explicit ? 'Check the path inside the image (tsbox run ROOTFS ls -l DIR).' : undefined,
    });
  }
  if (kind === 'dir') throw new CommandError(`${path}: is a directory, not a program`, { step: 'find command', exitCode: EXIT_NOT_EXECUTABLE });
  if (!fs.executable(path)) throw notExecutableError(path);
}

function notExecutableError(path: string): CommandError {
  return new CommandError(`${path}: permission denied: the file is not executable`, {
    step: 'find command',
    exitCode: EXIT_NOT_EXECUTABLE,
    hint: 'Make it executable in the image (chmod +x), or run it through its interpreter.',
  });
}

/** Map a failed execve's errno to docker's exit statuses. */
export function execErrorExitCode(code: string): number {
  return code === 'ENOENT' || code === 'ENOTDIR' ? EXIT_NOT_FOUND : EXIT_NOT_EXECUTABLE;
}
