import { describe, expect, it } from 'vitest';
import { archiveLockPath, digestHex, isEntryName, statKey, tempDirOfLock } from '../../src/image/cache-layout.js';
import { emptyIndex, lookupDigest, MAX_INDEX_RECORDS, parseIndex, withRecord } from '../../src/image/cache-index.js';
import { markerMatches } from '../../src/image/cache-entry.js';

const hex = 'ab'.repeat(32);
const st = { dev: 1n, ino: 2n, size: 3n, mtimeNs: 4n, ctimeNs: 5n };

describe('stat key', () => {
  it('changes with every field it is made of', () => {
    const base = statKey('/a.tar', st);
    expect(statKey('/b.tar', st)).not.toBe(base);
    for (const field of Object.keys(st) as Array<keyof typeof st>) {
      expect(statKey('/a.tar', { ...st, [field]: st[field] + 1n })).not.toBe(base);
    }
    expect(statKey('/a.tar', { ...st })).toBe(base);
  });

  it('gives one lock file per key, under the cache dir', () => {
    const a = archiveLockPath('/r', statKey('/a.tar', st));
    expect(a).toMatch(/^\/r\/rootfs\/\.locks\/[0-9a-f]{32}\.lock$/);
    expect(archiveLockPath('/r', statKey('/a.tar', st))).toBe(a);
    expect(archiveLockPath('/r', statKey('/a.tar', { ...st, size: 9n }))).not.toBe(a);
  });
});

describe('names', () => {
  it('accepts only sha256 digests', () => {
    expect(digestHex(`sha256:${hex}`)).toBe(hex);
    expect(digestHex(hex)).toBe(hex);
    expect(digestHex('sha256:../../etc')).toBeNull();
    expect(digestHex(hex.toUpperCase())).toBeNull();
    expect(isEntryName(hex)).toBe(true);
    expect(isEntryName('.tmp-1')).toBe(false);
  });

  it('pairs temp lock files with their directories', () => {
    expect(tempDirOfLock('.tmp-12-ab.lock')).toBe('.tmp-12-ab');
    expect(tempDirOfLock('.tmp-.lock')).toBeNull();
    expect(tempDirOfLock('.index.lock')).toBeNull();
    expect(tempDirOfLock('.tmp-12-ab')).toBeNull();
  });
});

describe('index', () => {
  it('finds a digest only under the same stat key', () => {
    const index = withRecord(emptyIndex(), '/a.tar', { key: 'k1', digest: `sha256:${hex}` });
    expect(lookupDigest(index, '/a.tar', 'k1')).toBe(`sha256:${hex}`);
    expect(lookupDigest(index, '/a.tar', 'k2')).toBeNull();
    expect(lookupDigest(index, '/b.tar', 'k1')).toBeNull();
  });

  it('replaces the record of a path and caps the number of records, oldest out', () => {
    const full = Object.fromEntries(Array.from({ length: MAX_INDEX_RECORDS }, (_, i) => [`/t${i}`, { key: 'k', digest: 'd' }]));
    let index = withRecord({ version: 1, archives: full }, '/new', { key: 'k', digest: 'd' });
    expect(Object.keys(index.archives)).toHaveLength(MAX_INDEX_RECORDS);
    expect(index.archives['/t0']).toBeUndefined();
    expect(index.archives['/t1']).toBeDefined();
    expect(Object.keys(index.archives).at(-1)).toBe('/new');
    index = withRecord(index, '/t10', { key: 'new', digest: 'd2' });
    expect(Object.keys(index.archives).at(-1)).toBe('/t10');
    expect(index.archives['/t10']!.key).toBe('new');
  });

  it('treats unreadable index files as empty', () => {
    expect(parseIndex('{')).toEqual(emptyIndex());
    expect(parseIndex('{"version":2,"archives":{}}')).toEqual(emptyIndex());
    const good = withRecord(emptyIndex(), '/a', { key: 'k', digest: 'd' });
    expect(parseIndex(JSON.stringify(good))).toEqual(good);
  });
});

describe('marker', () => {
  const marker = { digest: `sha256:${hex}`, contentBytes: 1, entries: 2, source: '/a.tar', extractedAt: 'now' };
  it('must name the digest of its directory', () => {
    expect(markerMatches(JSON.stringify(marker), hex)).toEqual(marker);
    expect(markerMatches(JSON.stringify(marker), 'cd'.repeat(32))).toBeNull();
    expect(markerMatches(JSON.stringify({ ...marker, contentBytes: -1 }), hex)).toBeNull();
    expect(markerMatches('', hex)).toBeNull();
  });
});
