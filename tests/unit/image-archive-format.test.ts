import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { sniffArchive } from '../../src/image/archive-format.js';
import { tarArchive } from '../helpers/image-tar.js';

describe('sniffArchive', () => {
  const tar = tarArchive([{ name: 'a', data: 'x' }]);

  it('recognises tar by its ustar magic and gzip by 1f 8b, whatever the name', () => {
    expect(sniffArchive(tar)).toEqual({ format: 'tar' });
    expect(sniffArchive(gzipSync(tar))).toEqual({ format: 'gzip' });
  });

  it('names unsupported compressions', () => {
    expect(sniffArchive(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0]))).toEqual({ unsupported: expect.stringMatching(/zstd/) });
    expect(sniffArchive(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 1]))).toEqual({ unsupported: expect.stringMatching(/xz/) });
    expect(sniffArchive(Buffer.from('BZh91AY'))).toEqual({ unsupported: expect.stringMatching(/bzip2/) });
  });

  it('rejects empty, short and unknown inputs', () => {
    expect(sniffArchive(Buffer.alloc(0))).toEqual({ unsupported: expect.stringMatching(/empty/) });
    expect(sniffArchive(Buffer.from('hello'))).toEqual({ unsupported: expect.stringMatching(/too short/) });
    expect(sniffArchive(Buffer.alloc(1024, 0x41))).toEqual({ unsupported: expect.stringMatching(/not a tar/) });
  });
});
