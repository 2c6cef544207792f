/**
 * madvise(2), for the detached container's monitor: it releases the clean, file-backed
 * pages it mapped during setup (runtime/release-pages.ts decides which).
 */
import { check, libc } from './libc.js';

// The address as an integer: user-space addresses on x86_64 fit in 47 bits, exact in a double.
const madviseFn = libc.func('int madvise(uintptr_t addr, size_t length, int advice)');

export const MADV = {
  /** Unmap the pages from this process; a file-backed page is read again from the page cache on the next touch. */
  DONTNEED: 4,
} as const;

export function madvise(start: number, length: number, advice: number): void {
  check(madviseFn(start, length, advice), 'madvise', `0x${start.toString(16)} +${length}, advice ${advice}`);
}

const mallocTrimFn = libc.func('int malloc_trim(size_t pad)');

/** Give malloc's free memory (in every arena) back to the kernel. */
export function mallocTrim(): void {
  mallocTrimFn(0);
}
