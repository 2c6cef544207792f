import { check, libc } from './libc.js';
import { AF_INET, SOCK_CLOEXEC, SOCK_DGRAM } from './socket-flags.js';

const socketFn = libc.func('int socket(int domain, int type, int protocol)');
const ioctlFn = libc.func('int ioctl(int fd, unsigned long request, void *arg)');
const closeFn = libc.func('int close(int fd)');

const SIOCGIFFLAGS = 0x8913;
const SIOCSIFFLAGS = 0x8914;
const IFF_UP = 0x1;
const IFREQ_SIZE = 40; // char ifr_name[16] + a 24-byte union; ifr_flags is a short at offset 16

/** Bring a network interface up (the new network namespace starts with lo down). */
export function linkUp(name: string): void {
  const fd = check(socketFn(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), 'socket', 'AF_INET, SOCK_DGRAM|SOCK_CLOEXEC, 0');
  try {
    const ifr = Buffer.alloc(IFREQ_SIZE);
    ifr.write(name, 0, 15, 'utf8');
    check(ioctlFn(fd, SIOCGIFFLAGS, ifr), 'ioctl', () => `${fd}, SIOCGIFFLAGS, {ifr_name: ${JSON.stringify(name)}}`);
    ifr.writeInt16LE(ifr.readInt16LE(16) | IFF_UP, 16);
    check(ioctlFn(fd, SIOCSIFFLAGS, ifr), 'ioctl', () => `${fd}, SIOCSIFFLAGS, {ifr_name: ${JSON.stringify(name)}, ifr_flags: IFF_UP|...}`);
  } finally {
    closeFn(fd);
  }
}
