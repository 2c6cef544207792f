/**
 * A separate process that prepares one rootfs, for tests that need real concurrency,
 * SIGKILL, stdin or TSBOX_TEST_NO_OPENAT2 (read when src/sys/fs.ts loads).
 * argv: <source> <state root> [max bytes] [max entries]. Prints one JSON line: the PreparedImage, or
 * { error, step, name } on failure (exit 1).
 */
import { prepareImage } from '../../src/image/index.js';
import { silentLogger } from '../../src/log.js';

const [source, root, max, maxEntries] = process.argv.slice(2);
try {
  const prepared = await prepareImage(source!, { root: root!, maxRootfsSize: max ? Number(max) : 64 * 1024 ** 3, maxRootfsEntries: maxEntries ? Number(maxEntries) : undefined, log: silentLogger });
  process.stdout.write(JSON.stringify(prepared) + '\n');
} catch (err) {
  const e = err as Error & { step?: string };
  process.stdout.write(JSON.stringify({ error: e.message, step: e.step ?? null, name: e.name }) + '\n');
  process.exitCode = 1;
}
