/**
 * Unnamed files made ahead of need on other threads, for an extraction to name (linkat)
 * instead of creating each file itself.
 *
 * Why: creating a file costs the filesystem an inode allocation, done under the parent
 * directory's lock, and on some filesystems that allocation dominates an extraction. Here
 * (ext4 without a journal) the allocator skips every recently freed inode one by one, so
 * right after a big tree was removed each creation costs ~0.2-0.5 ms of kernel time: 10 s
 * and more for a 30,000-file image, one core busy while the other idles. O_TMPFILE does the
 * allocation without the directory lock, so a few of them run on the thread pool while the
 * extractor parses, decompresses, writes and names files on its own thread. The extractor
 * takes a ready file when there is one and otherwise creates the file as before: the pool
 * never makes it wait, and nothing depends on it (a filesystem without O_TMPFILE, or a
 * failed link, just turns it off).
 *
 * Only where allocation is slow: the pool starts once a window of the extractor's own
 * creations proves slow (noteDirectCreate). Where they are cheap (a journaled ext4, as
 * mkfs.ext4 makes it) the threads only add work and compete with gunzip on the thread pool,
 * and every file made ahead lands in the tree root's block group instead of its directory's:
 * measured on a 204 MB Debian image (5 interleaved runs each), a pull took 1.35 s with this
 * start against 1.65 s with the pool always on, a first run 0.51 s against 0.69 s; where
 * allocation was slow (this VM's aged /tmp), 4.46 s against 4.26 s.
 *
 * Safety is unchanged: the files are made in the tree's own root directory, unnamed and
 * invisible, and a file gets its name by linkat on the in-root parent fd and the final
 * name, which never follows anything and fails on an existing name, as O_EXCL does. Unused
 * files vanish with their fd (close, or the death of the process).
 */
import { close, O, openat, openTmpfileAsync } from '../sys/fs.js';

/**
 * Calls in flight. The thread pool also runs zlib's inflate (gunzip of a layer), which waits
 * behind these; but where allocation is slow (right after a big removal, ~0.3 ms each) the
 * pool must keep ahead of the extractor, or the extractor makes its files itself, on the
 * thread that also parses and writes. Measured on a 204 MB Debian pull from a local registry
 * (5 interleaved runs each, quiet machine): 16 in flight 4.92 s, 32 4.33-4.59 s, 64 4.17 s.
 */
const IN_FLIGHT = 64;
/** Ready files kept: the extractor may take many between two turns of the event loop (it yields every ~20 ms). */
const READY = 256;
/**
 * The extractor's creations are timed in windows of WINDOW; the pool starts after the first
 * window whose mean is above SLOW_CREATE_NS. Not only the first window: on ext4 without a
 * journal the slow allocations come once the extraction reaches recently freed inodes.
 */
const WINDOW = 32;
const SLOW_CREATE_NS = 100_000n;

export class TmpfilePool {
  private readonly dirFd: number;
  private readonly ready: number[] = [];
  private inflight = 0;
  private off = false;
  private drained: (() => void) | null = null;
  private started = false;
  private timed = 0;
  private timedNs = 0n;
  /** Files the extraction took from the pool (tests check that the path was taken). */
  taken = 0;

  /** Files ready to be taken now. */
  get available(): number {
    return this.ready.length;
  }

  /**
   * `treeFd`: the tree's root directory; the pool keeps its own fd of it. `start`: 'when-slow'
   * waits for noteDirectCreate to show slow allocation; 'now' fills at once.
   */
  constructor(treeFd: number, start: 'now' | 'when-slow' = 'when-slow') {
    this.dirFd = openat(treeFd, '.', O.RDONLY | O.DIRECTORY);
    if (start === 'now') this.begin();
  }

  /** The extractor created a file itself in `elapsedNs`; a window of slow ones starts the pool. */
  noteDirectCreate(elapsedNs: bigint): void {
    if (!this.deciding) return;
    this.timed++;
    this.timedNs += elapsedNs;
    if (this.timed < WINDOW) return;
    if (this.timedNs / BigInt(WINDOW) > SLOW_CREATE_NS) this.begin();
    this.timed = 0;
    this.timedNs = 0n;
  }

  /** Whether the extractor should time its own creations for noteDirectCreate. */
  get deciding(): boolean {
    return !this.started && !this.off;
  }

  private begin(): void {
    this.started = true;
    this.fill();
  }

  /** A ready unnamed file, or null (then create the file directly). The caller owns the fd. */
  take(): number | null {
    const fd = this.ready.shift();
    this.fill();
    if (fd === undefined) return null;
    this.taken++;
    return fd;
  }

  /** Stop using the pool (the filesystem cannot link such files). */
  disable(): void {
    this.off = true;
    for (const fd of this.ready.splice(0)) close(fd);
  }

  /** Wait for the calls in flight, close every unused file and the directory. */
  async close(): Promise<void> {
    this.off = true;
    while (this.inflight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    for (const fd of this.ready.splice(0)) close(fd);
    close(this.dirFd);
  }

  private fill(): void {
    while (this.started && !this.off && this.inflight < IN_FLIGHT && this.inflight + this.ready.length < READY) {
      this.inflight++;
      void openTmpfileAsync(this.dirFd).then((fd) => {
        this.inflight--;
        if (fd < 0) this.off = true; // no O_TMPFILE here: the extractor creates its files itself
        else if (this.off) close(fd);
        else this.ready.push(fd);
        if (this.inflight === 0 && this.drained !== null) {
          const d = this.drained;
          this.drained = null;
          d();
        }
      });
    }
  }
}
