/**
 * Looking at the first bytes of a stream (its magic number: gzip, zstd, xz, tar) without
 * losing them: the chunks read are handed out again, in front of the rest.
 */

/** The first `n` bytes of the input (fewer if it is shorter), and the whole input again. */
export async function peekStream<T extends Buffer | string>(input: AsyncIterable<T>, n: number): Promise<{ head: Buffer; rest: AsyncIterable<T> }> {
  const it = input[Symbol.asyncIterator]();
  const taken: T[] = [];
  let size = 0;
  let done = false;
  while (size < n) {
    const r = await it.next();
    if (r.done === true) {
      done = true;
      break;
    }
    taken.push(r.value);
    size += r.value.length;
  }
  const head = Buffer.concat(taken.map((c): Buffer => (typeof c === 'string' ? Buffer.from(c) : (c as Buffer)))).subarray(0, n);
  const rest = (async function* () {
    yield* taken;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done === true) return;
      yield r.value;
    }
  })();
  return { head, rest };
}
