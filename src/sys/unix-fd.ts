/**
 * Passing an fd to another process over a unix socket (SCM_RIGHTS), as an OCI runtime hands
 * a container's pty master to the engine's --console-socket; and mkfifo, for the runtime's
 * hold point (init/hold-fifo.ts). x86_64 layouts.
 */
import { check, koffi, libc } from './libc.js';
import { AF_UNIX, SCM_RIGHTS, SOCK_CLOEXEC, SOCK_STREAM, SOL_SOCKET } from './socket-flags.js';

const SUN_PATH_MAX = 108;

const iovec = koffi.struct('tsbox_iovec', { iov_base: 'void *', iov_len: 'size_t' });
const msghdr = koffi.struct('tsbox_msghdr', {
  msg_name: 'void *', msg_namelen: 'uint32', msg_iov: koffi.pointer(iovec), msg_iovlen: 'size_t',
  msg_control: 'void *', msg_controllen: 'size_t', msg_flags: 'int',
});
const socketFn = libc.func('int socket(int domain, int type, int protocol)');
const connectFn = libc.func('int connect(int fd, const void *addr, uint32_t len)');
const sendmsgFn = libc.func('sendmsg', 'long', ['int', koffi.pointer(msghdr), 'int']);
const closeFn = libc.func('int close(int fd)');
const mkfifoFn = libc.func('int mkfifo(const char *path, uint32_t mode)');

/** Connect to the unix socket at `path` and send `fd` with one byte of data (the receiver needs data to read the ancillary part). */
export function sendFdOverSocket(path: string, fd: number): void {
  const name = Buffer.from(path);
  if (name.length >= SUN_PATH_MAX) throw new Error(`the socket path ${path} is longer than ${SUN_PATH_MAX - 1} bytes`);
  const sock = check(socketFn(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) as number, 'socket', 'AF_UNIX');
  try {
    const addr = Buffer.alloc(2 + SUN_PATH_MAX);
    addr.writeUInt16LE(AF_UNIX, 0);
    name.copy(addr, 2);
    check(connectFn(sock, addr, 2 + name.length + 1) as number, 'connect', path);
    // struct cmsghdr { size_t len; int level; int type; } + one int, padded to CMSG_SPACE(4) = 24.
    const control = Buffer.alloc(24);
    control.writeBigUInt64LE(20n, 0);
    control.writeInt32LE(SOL_SOCKET, 8);
    control.writeInt32LE(SCM_RIGHTS, 12);
    control.writeInt32LE(fd, 16);
    const data = Buffer.from('\0');
    const msg = { msg_name: null, msg_namelen: 0, msg_iov: [{ iov_base: data, iov_len: data.length }], msg_iovlen: 1, msg_control: control, msg_controllen: control.length, msg_flags: 0 };
    check(Number(sendmsgFn(sock, msg, 0)), 'sendmsg', `SCM_RIGHTS fd ${fd} to ${path}`);
  } finally {
    closeFn(sock);
  }
}

export function mkfifo(path: string, mode: number): void {
  check(mkfifoFn(path, mode) as number, 'mkfifo', path);
}
