/**
 * A separate process that prepares one rootfs, for tests that need real concurrency,
 * SIGKILL, stdin or no openat2 (the userspace resolver of kernels before 5.6).
 * argv: [--no-openat2] <source> <state root> [max bytes] [max entries]. Prints one JSON line: the PreparedImage, or
 * { error, step, name } on failure (exit 1).
 */
import { prepareImage } from '../../src/image/index.js';
import { silentLogger } from '../../src/log.js';
import { useOpenat2 } from '../../src/sys/fs.js';

const args = process.argv.slice(2);
if (args[0] === '--no-openat2') {
  useOpenat2(false);
  args.shift();
}
const [source, root, max, maxEntries] = args;
try {
  const prepared = await prepareImage(source!, { root: root!, maxRootfsSize: max ? Number(max) : 64 * 1024 ** 3, maxRootfsEntries: maxEntries ? Number(maxEntries) : undefined, log: silentLogger });
  process.stdout.write(JSON.stringify(prepared) + '\n');
} catch (err) {
  const e = err as Error & { step?: string };
  process.stdout.write(JSON.stringify({ error: e.message, step: e.step ?? null, name: e.name }) + '\n');
  process.exitCode = 1;
}
