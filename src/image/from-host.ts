/**
 * `tsbox rootfs from-host OUT.tar`: a small rootfs tarball made from the host's busybox
 * (a static one is self-contained; a dynamic one brings its libraries), or, without
 * busybox, from /bin/sh and the libraries ldd says it needs. Integration tests build their
 * rootfs with it. The output is reproducible: every entry has the shell binary's mtime.
 */
import { execFile } from 'node:child_process';
import { createWriteStream, promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { TsboxError } from '../errors.js';
import { elfIsDynamic, parseLddOutput, planHostRootfs, type HostShell, type PlannedEntry } from './host-rootfs-plan.js';

const run = promisify(execFile);

export interface FromHostOptions {
  gzip?: boolean;
  /** Busybox to use; null to skip busybox and use /bin/sh. Default: found in the usual places. */
  busybox?: string | null;
}

export interface FromHostResult {
  kind: 'busybox' | 'shell';
  entries: number;
}

const BUSYBOX_PLACES = ['/bin/busybox', '/usr/bin/busybox', '/sbin/busybox', '/usr/sbin/busybox'];

export async function buildRootfsFromHost(outPath: string, opts: FromHostOptions = {}): Promise<FromHostResult> {
  const host = await probeHost(opts.busybox);
  const entries = planHostRootfs(host);
  const mainBinary = host.kind === 'busybox' ? host.busybox : host.shell;
  const mtime = (await fs.stat(mainBinary)).mtime;

  const pack = tar.pack();
  const temp = `${outPath}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  let writing: Promise<void> | null = null;
  try {
    // Opened before packing, so an unwritable destination fails first, with its own error.
    const out = await fs.open(temp, 'wx', 0o644);
    const file = createWriteStream('', { fd: out });
    writing = opts.gzip ? pipeline(pack, createGzip(), file) : pipeline(pack, file);
    writing.catch(() => {}); // awaited below; a failure also stops addEntry
    for (const entry of entries) await addEntry(pack, entry, mtime);
    pack.finalize();
    await writing;
    await fs.rename(temp, outPath);
  } catch (err) {
    pack.destroy();
    // The stream's own error (EIO, ENOSPC) says more than the packer's "destroyed".
    const cause = writing === null ? err : await writing.then(() => err, (e: unknown) => e);
    await fs.rm(temp, { force: true });
    throw new TsboxError(`building a rootfs from the host: ${(cause as Error).message}`, { step: 'rootfs from-host', cause });
  }
  return { kind: host.kind, entries: entries.length };
}

async function addEntry(pack: tar.Pack, e: PlannedEntry, mtime: Date): Promise<void> {
  const header = { name: e.name, type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, mtime, ...(e.linkname ? { linkname: e.linkname } : {}) };
  const data = e.type !== 'file' ? undefined : e.content !== undefined ? Buffer.from(e.content) : await fs.readFile(e.hostPath!);
  await new Promise<void>((resolve, reject) => {
    const cb = (err?: Error | null) => (err ? reject(err) : resolve());
    if (data === undefined) pack.entry(header, cb);
    else pack.entry({ ...header, size: data.length }, data, cb);
  });
}

async function probeHost(busyboxOpt: string | null | undefined): Promise<HostShell> {
  const busybox = busyboxOpt === undefined ? await firstExisting(BUSYBOX_PLACES) : busyboxOpt;
  if (busybox !== null) {
    const real = await fs.realpath(busybox);
    const { stdout } = await run(real, ['--list']);
    const applets = stdout.split('\n').map((s) => s.trim()).filter(Boolean);
    return { kind: 'busybox', busybox: real, applets, libraries: await librariesOf(real) };
  }
  const shell = await fs.realpath('/bin/sh');
  return { kind: 'shell', shell, libraries: await librariesOf(shell) };
}

/** A static binary needs nothing; a dynamic one needs what ldd lists. */
async function librariesOf(binary: string): Promise<string[]> {
  const fh = await fs.open(binary, 'r');
  let head: Buffer;
  try {
    head = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    head = head.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  if (!elfIsDynamic(head)) return [];
  const { stdout } = await run('ldd', [binary]);
  return parseLddOutput(stdout);
}

async function firstExisting(paths: string[]): Promise<string | null> {
  for (const p of paths) {
    try {
      await fs.access(p, fs.constants.X_OK);
      return p;
    } catch {
      // try the next place
    }
  }
  return null;
}
