/**
 * The AF_NETLINK socket: what src/network/rtnetlink needs to talk to the kernel's routing
 * subsystem without the `ip` binary. Messages are plain Buffers built and parsed in pure code.
 */
import { closeSync, openSync } from 'node:fs';
import { check, libc } from './libc.js';
import { CLONE, setns } from './namespaces.js';
import {
  AF_NETLINK, NETLINK_CAP_ACK, NETLINK_EXT_ACK, NETLINK_NETFILTER, NETLINK_ROUTE, SOCK_CLOEXEC, SOCK_RAW, SOL_NETLINK, SOL_SOCKET, SO_RCVTIMEO,
} from './netlink-constants.js';

const socketFn = libc.func('int socket(int domain, int type, int protocol)');
const bindFn = libc.func('int bind(int fd, const void *addr, uint32_t len)');
const sendFn = libc.func('long send(int fd, const void *buf, size_t len, int flags)');
const recvFn = libc.func('long recv(int fd, void *buf, size_t len, int flags)');
const setsockoptFn = libc.func('int setsockopt(int fd, int level, int name, const void *val, uint32_t len)');
const closeFn = libc.func('int close(int fd)');

const MSG_TRUNC = 0x20;
const MSG_PEEK = 0x2;
/** Big enough for a dump batch of every link with stats64; a larger message is peeked first. */
const RECV_SIZE = 64 * 1024;

export interface NetlinkSocket {
  readonly fd: number;
  send(msg: Buffer): void;
  /** One datagram: one or more netlink messages. */
  recv(): Buffer;
  close(): void;
}

/**
 * A NETLINK_ROUTE socket in the caller's current network namespace, asking for extended-ack
 * error text. A socket keeps the namespace it was created in for its whole life, which is
 * what lets `openRouteSocketIn` create it inside a container's namespace and come back.
 */
export function openRouteSocket(): NetlinkSocket {
  return openNetlinkSocket(NETLINK_ROUTE);
}

/** Any netlink family: NETLINK_ROUTE for links, NETLINK_NETFILTER for conntrack. */
export function openNetlinkSocket(protocol: number): NetlinkSocket {
  const fd = check(socketFn(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol), 'socket', () => `AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, ${protocol === NETLINK_ROUTE ? 'NETLINK_ROUTE' : protocol === NETLINK_NETFILTER ? 'NETLINK_NETFILTER' : protocol}`) as number;
  try {
    const one = Buffer.alloc(4);
    one.writeInt32LE(1, 0);
    // Both are best effort on old kernels: without them errors are bare errnos.
    setsockoptFn(fd, SOL_NETLINK, NETLINK_EXT_ACK, one, 4);
    setsockoptFn(fd, SOL_NETLINK, NETLINK_CAP_ACK, one, 4);
    // A reply that never comes (a kernel bug, a wrong request) must not hang tsbox forever.
    const tv = Buffer.alloc(16);
    tv.writeBigInt64LE(5n, 0);
    check(setsockoptFn(fd, SOL_SOCKET, SO_RCVTIMEO, tv, 16), 'setsockopt', 'SO_RCVTIMEO');
    const addr = Buffer.alloc(12); // sockaddr_nl: family, pad, pid 0 (the kernel picks), groups 0
    addr.writeUInt16LE(AF_NETLINK, 0);
    check(bindFn(fd, addr, 12), 'bind', 'AF_NETLINK');
  } catch (err) {
    closeFn(fd);
    throw err;
  }
  let closed = false;
  return {
    fd,
    send(msg) {
      check(sendFn(fd, msg, msg.length, 0), 'send', `netlink ${msg.length} bytes`);
    },
    recv() {
      const peek = Buffer.alloc(16);
      const size = Number(check(recvFn(fd, peek, 16, MSG_PEEK | MSG_TRUNC), 'recv', 'netlink peek'));
      const buf = Buffer.alloc(Math.max(size, RECV_SIZE));
      const n = Number(check(recvFn(fd, buf, buf.length, 0), 'recv', 'netlink'));
      return buf.subarray(0, n);
    },
    close() {
      if (closed) return;
      closed = true;
      closeFn(fd);
    },
  };
}

/**
 * A NETLINK_ROUTE socket inside the network namespace `netnsFd` (an open /proc/PID/ns/net or
 * a bind mount of it): setns there on this thread, create the socket, setns back. Synchronous,
 * so nothing else runs on the main thread while it is in the other namespace; Node's worker
 * threads keep their own namespace (setns changes only the calling thread).
 */
export function openRouteSocketIn(netnsFd: number): NetlinkSocket {
  const home = openSync('/proc/thread-self/ns/net', 'r');
  try {
    setns(netnsFd, CLONE.NEWNET, `netns fd ${netnsFd}`);
    try {
      return openRouteSocket();
    } finally {
      // Coming back cannot fail for a root process holding its own namespace's fd; if it did,
      // this thread would stay in the container's namespace: fail loudly rather than go on.
      setns(home, CLONE.NEWNET, 'back to the host netns');
    }
  } finally {
    closeSync(home);
  }
}
