/**
 * What `tsbox rootfs from-host` puts in its tarball, decided without touching the host.
 * Pure: the host facts (which busybox, its applets, which libraries a binary needs) come
 * in as arguments; the list of tar entries comes out.
 */

export interface PlannedEntry {
  /** Member name, relative ("bin/sh"). */
  name: string;
  type: 'directory' | 'file' | 'symlink';
  mode: number;
  uid: number;
  gid: number;
  /** For files: the host file to copy the content from. */
  hostPath?: string;
  /** For generated files (/etc/passwd). */
  content?: string;
  linkname?: string;
}

const TSBOX_UID = 1000;
const NOBODY = 65534;

const baseDirs: Array<[string, number, number?]> = [
  ['bin', 0o755],
  ['dev', 0o755],
  ['etc', 0o755],
  ['home', 0o755],
  ['home/tsbox', 0o755, TSBOX_UID],
  ['proc', 0o555],
  ['root', 0o700],
  ['sys', 0o555],
  ['tmp', 0o1777],
  ['usr', 0o755],
  ['usr/bin', 0o755],
  ['var', 0o755],
];

const passwd = ['root:x:0:0:root:/root:/bin/sh', `nobody:x:${NOBODY}:${NOBODY}:nobody:/nonexistent:/bin/false`, `tsbox:x:${TSBOX_UID}:${TSBOX_UID}:tsbox:/home/tsbox:/bin/sh`];
const group = ['root:x:0:', `nogroup:x:${NOBODY}:`, `tsbox:x:${TSBOX_UID}:`];

/** An applet name that is safe as one file name in /bin ("[" and "[[" are real applets). */
export function isAppletName(name: string): boolean {
  return /^[A-Za-z0-9_.[\]+-]+$/.test(name) && name !== '.' && name !== '..' && name !== 'busybox';
}

export type HostShell =
  | { kind: 'busybox'; busybox: string; applets: string[]; libraries: string[] }
  | { kind: 'shell'; shell: string; libraries: string[] };

export function planHostRootfs(host: HostShell): PlannedEntry[] {
  const entries: PlannedEntry[] = baseDirs.map(([name, mode, owner]) => ({ name, type: 'directory', mode, uid: owner ?? 0, gid: owner ?? 0 }));
  if (host.kind === 'busybox') {
    entries.push({ name: 'bin/busybox', type: 'file', mode: 0o755, uid: 0, gid: 0, hostPath: host.busybox });
    for (const applet of [...new Set(host.applets)].filter(isAppletName).sort()) {
      entries.push({ name: `bin/${applet}`, type: 'symlink', mode: 0o777, uid: 0, gid: 0, linkname: '/bin/busybox' });
    }
  } else {
    entries.push({ name: 'bin/sh', type: 'file', mode: 0o755, uid: 0, gid: 0, hostPath: host.shell });
  }
  entries.push(...libraryEntries(host.libraries));
  entries.push({ name: 'etc/passwd', type: 'file', mode: 0o644, uid: 0, gid: 0, content: passwd.join('\n') + '\n' });
  entries.push({ name: 'etc/group', type: 'file', mode: 0o644, uid: 0, gid: 0, content: group.join('\n') + '\n' });
  return entries;
}

/** Each library at the absolute path the dynamic loader will look for, with its parent dirs. */
function libraryEntries(libraries: string[]): PlannedEntry[] {
  const out: PlannedEntry[] = [];
  const dirs = new Set<string>(baseDirs.map(([d]) => d));
  for (const lib of [...new Set(libraries)].sort()) {
    const name = lib.replace(/^\/+/, '');
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!dirs.has(dir)) {
        dirs.add(dir);
        out.push({ name: dir, type: 'directory', mode: 0o755, uid: 0, gid: 0 });
      }
    }
    out.push({ name, type: 'file', mode: 0o755, uid: 0, gid: 0, hostPath: lib });
  }
  return out;
}

/**
 * The absolute library paths in `ldd` output ("libc.so.6 => /lib/.../libc.so.6 (0x..)",
 * "/lib64/ld-linux-x86-64.so.2 (0x..)"); the vDSO has no file. A "not found" is an error:
 * the shell would not start.
 */
export function parseLddOutput(text: string): string[] {
  const libs: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || /statically linked|not a dynamic executable/.test(line)) continue;
    const arrow = /^(\S+) => (.+?)(?: \(0x[0-9a-f]+\))?$/.exec(line);
    if (arrow) {
      if (arrow[2] === 'not found') throw new Error(`library ${arrow[1]} not found`);
      if (arrow[2]!.startsWith('/')) libs.push(arrow[2]!);
      continue;
    }
    const direct = /^(\/\S+) \(0x[0-9a-f]+\)$/.exec(line);
    if (direct) libs.push(direct[1]!);
  }
  return libs;
}

/** True if the ELF image has a PT_INTERP program header (it is dynamically linked). */
export function elfIsDynamic(head: Uint8Array): boolean {
  const buf = Buffer.from(head.buffer, head.byteOffset, head.length);
  if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) return false;
  if (buf[4] !== 2 || buf[5] !== 1) return false; // 64-bit little-endian only (x86_64)
  const phoff = Number(buf.readBigUInt64LE(32));
  const phentsize = buf.readUInt16LE(54);
  const phnum = buf.readUInt16LE(56);
  for (let i = 0; i < phnum; i++) {
    const off = phoff + i * phentsize;
    if (off + 4 > buf.length) return false;
    if (buf.readUInt32LE(off) === 3) return true; // PT_INTERP
  }
  return false;
}
