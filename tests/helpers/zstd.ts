import { execFileSync } from 'node:child_process';
/** zstd-compress with the zstd program (test data only). */
export function zstdCompress(data: Buffer): Buffer {
  return execFileSync('zstd', ['-q', '-c', '-3'], { input: data, maxBuffer: 1024 ** 3 });
}
