/**
 * Socket constants (sys/socket.h, x86_64 Linux), in a module that loads no FFI: the socket
 * bindings (unix-fd.ts, net.ts, netlink.ts) and the pure netlink code share these.
 */

export const AF_UNSPEC = 0;
export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_BRIDGE = 7;
export const AF_NETLINK = 16;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_RCVTIMEO = 20;
/** The control message that carries fds (SCM_RIGHTS). */
export const SCM_RIGHTS = 1;
