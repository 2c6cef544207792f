/**
 * The attacker of the :ro volume race (tests/integration/volume-ro-race.test.ts), run as
 * its own process, as a second container sharing the volume would: swap two names in a
 * shared directory with renameat2(RENAME_EXCHANGE), atomically and as fast as it can, so
 * that the name is at every instant either the directory or the symlink.
 * Usage: node exchange-flipper.cjs KOFFI_DIR A B; prints "ready" after the first swap.
 */
'use strict';
const koffi = require(process.argv[2]);
const libc = koffi.load('libc.so.6');
const renameat2 = libc.func('int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags)');
const AT_FDCWD = -100;
const RENAME_EXCHANGE = 2;
const [a, b] = process.argv.slice(3);
if (renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) !== 0) throw new Error(`renameat2 failed: errno ${koffi.errno()}`);
process.stdout.write('ready\n');
for (;;) renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE);
