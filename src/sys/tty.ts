/**
 * Terminals: allocating a pty in the container's devpts, making it a controlling terminal,
 * window sizes. x86_64 ioctl numbers.
 */
import { check, koffi, libc } from './libc.js';

const TIOCSCTTY = 0x540e;
const TIOCGWINSZ = 0x5413;
const TIOCSWINSZ = 0x5414;
const TIOCGPTN = 0x80045430;
const TIOCSPTLCK = 0x40045431;
const O_RDWR = 0o2;
const O_NOCTTY = 0o400;
const O_CLOEXEC = 0o2000000;

const winsize = koffi.struct('tsbox_winsize', { ws_row: 'uint16', ws_col: 'uint16', ws_xpixel: 'uint16', ws_ypixel: 'uint16' });
const openFn = libc.func('int open(const char *path, int flags)');
const ioctlIntIn = libc.func('ioctl', 'int', ['int', 'unsigned long', 'int *']);
const ioctlIntOut = libc.func('ioctl', 'int', ['int', 'unsigned long', koffi.out(koffi.pointer('uint32'))]);
const ioctlArg = libc.func('ioctl', 'int', ['int', 'unsigned long', 'unsigned long']);
const ioctlWinsizeIn = libc.func('ioctl', 'int', ['int', 'unsigned long', koffi.pointer(winsize)]);
const ioctlWinsizeOut = libc.func('ioctl', 'int', ['int', 'unsigned long', koffi.out(koffi.pointer(winsize))]);

export interface WindowSize {
  rows: number;
  cols: number;
}

/**
 * Open a ptmx node: a new pty pair in the devpts instance that node belongs to. Given
 * /proc/<pid>/root/dev/pts/ptmx, that is the container's own instance (its ptys are
 * numbered from 0 and invisible to the host's /dev/pts).
 */
export function openPtyMaster(ptmxPath: string): number {
  return check(openFn(ptmxPath, O_RDWR | O_NOCTTY | O_CLOEXEC) as number, 'open', ptmxPath);
}

/** unlockpt() and ptsname() in one: the slave's number in its devpts instance. */
export function unlockPty(master: number): number {
  check(ioctlIntIn(master, TIOCSPTLCK, [0]) as number, 'ioctl', `TIOCSPTLCK fd ${master}`);
  const index = [0];
  check(ioctlIntOut(master, TIOCGPTN, index) as number, 'ioctl', `TIOCGPTN fd ${master}`);
  return index[0]!;
}

/** Make the terminal open on fd the controlling terminal of this session (we must lead it). */
export function setControllingTerminal(fd: number): void {
  check(ioctlArg(fd, TIOCSCTTY, 0) as number, 'ioctl', `TIOCSCTTY fd ${fd}`);
}

export function getWindowSize(fd: number): WindowSize | null {
  const ws: Record<string, number> = {};
  if ((ioctlWinsizeOut(fd, TIOCGWINSZ, ws) as number) !== 0) return null;
  return { rows: ws.ws_row ?? 0, cols: ws.ws_col ?? 0 };
}

export function setWindowSize(fd: number, size: WindowSize): void {
  check(ioctlWinsizeIn(fd, TIOCSWINSZ, { ws_row: size.rows, ws_col: size.cols, ws_xpixel: 0, ws_ypixel: 0 }) as number, 'ioctl', `TIOCSWINSZ fd ${fd}`);
}
