import { describe, expect, it } from 'vitest';
import { DocumentError, indexSchema, manifestSchema, MAX_DOCUMENT_BYTES, parseDocument, selectForPlatform } from '../../src/image/oci/documents.js';
import { layerAction, WhiteoutError } from '../../src/image/layer-entries.js';
import { chooseStacking } from '../../src/image/oci/mount-plan.js';
import { sniffCompression } from '../../src/image/oci/decompress.js';
import { matchesName } from '../../src/image/oci/source.js';
import { looksLikeImageMember, splitSelector } from '../../src/image/oci/load.js';
import type { EntryPlan } from '../../src/image/entry-plan.js';

const d = (x: string) => `sha256:${x.repeat(64)}`;
const desc = (over: object = {}) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d('a'), size: 10, ...over });
const j = (v: unknown) => Buffer.from(JSON.stringify(v));

describe('documents', () => {
  it('refuses a digest that could become a path', () => {
    expect(() => parseDocument(j({ schemaVersion: 2, manifests: [desc({ digest: 'sha256:../../etc/passwd' })] }), indexSchema, 'index')).toThrow(/not a sha256 digest/);
    expect(() => parseDocument(j({ schemaVersion: 2, manifests: [desc({ digest: `sha256:${'A'.repeat(64)}` })] }), indexSchema, 'index')).toThrow(DocumentError);
  });
  it('refuses a document with both manifests and layers', () => {
    expect(() => parseDocument(j({ schemaVersion: 2, manifests: [], config: desc(), layers: [] }), manifestSchema, 'm')).toThrow(/both/);
  });
  it('bounds the size', () => {
    expect(() => parseDocument(Buffer.alloc(MAX_DOCUMENT_BYTES + 1, 0x20), indexSchema, 'index')).toThrow(/larger/);
  });
  it('picks linux/amd64, then platform-less entries; never unknown/unknown', () => {
    const idx = { schemaVersion: 2 as const, manifests: [desc({ digest: d('1'), platform: { os: 'unknown', architecture: 'unknown' } }), desc({ digest: d('2'), platform: { os: 'linux', architecture: 'arm64' } }), desc({ digest: d('3'), platform: { os: 'linux', architecture: 'amd64' } }), desc({ digest: d('4') })] };
    expect(selectForPlatform(idx, { os: 'linux', architecture: 'amd64' }).map((m) => m.digest)).toEqual([d('3'), d('4')]);
  });
});

const plan = (name: string, over: Partial<EntryPlan> = {}): EntryPlan => ({
  name, path: name.split('/').filter(Boolean), kind: 'file', mode: 0o644, uid: 0, gid: 0, size: 0, mtime: { sec: 0, nsec: 0 }, atime: null,
  symlinkTarget: null, linkTarget: null, major: 0, minor: 0, xattrs: [], ...over,
});

describe('whiteouts (image spec)', () => {
  it('.wh.NAME hides NAME', () => expect(layerAction(plan('etc/.wh.motd'))).toEqual({ kind: 'whiteout', path: ['etc', 'motd'] }));
  it('opaque marker', () => expect(layerAction(plan('usr/doc/.wh..wh..opq'))).toEqual({ kind: 'opaque', dir: ['usr', 'doc'] }));
  it('other .wh..wh. metadata is ignored', () => expect(layerAction(plan('a/.wh..wh.plnk'))).toEqual({ kind: 'ignore' }));
  for (const bad of ['etc/.wh.', 'etc/.wh..', 'etc/.wh...', '.wh..wh..opq']) {
    it(`refuses ${bad}`, () => expect(() => layerAction(plan(bad))).toThrow(WhiteoutError));
  }
  it('drops device nodes', () => expect(layerAction(plan('dev/sda', { kind: 'block-device', major: 8 }))).toEqual({ kind: 'drop-device' }));
  it('refuses overlay xattrs', () => expect(() => layerAction(plan('a', { xattrs: [['trusted.overlay.redirect', Buffer.from('/etc')]] }))).toThrow(WhiteoutError));
});

describe('stacking', () => {
  it('lowerdir+ when the kernel has it', () => expect(chooseStacking(['/a', '/b'], true, '').kind).toBe('lowerdir+'));
  it('never a mount(2) option string past a page', () => {
    const dirs = Array.from({ length: 150 }, (_, i) => `/var/lib/tsbox/layers/${'f'.repeat(20)}${i}/tree`);
    expect(chooseStacking(dirs, false, 'upperdir=/u,workdir=/w').kind).toBe('flatten');
    expect(chooseStacking(dirs.slice(0, 5), false, 'upperdir=/u,workdir=/w')).toEqual({ kind: 'mount-option', lowerdir: dirs.slice(0, 5).join(':') });
  });
  it('flattens past 500 layers', () => expect(chooseStacking(Array.from({ length: 501 }, (_, i) => `/l${i}`), true, '').kind).toBe('flatten'));
});

describe('names and content', () => {
  it('compression by magic', () => {
    expect(sniffCompression(Buffer.from([0x1f, 0x8b, 8]))).toBe('gzip');
    expect(sniffCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))).toBe('zstd');
    expect(sniffCompression(Buffer.from([0x50, 0x2a, 0x4d, 0x18]))).toBe('zstd');
    expect(sniffCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0]))).toBe('xz');
    expect(sniffCompression(Buffer.from('usr/'))).toBe('none');
  });
  it('ARCHIVE:NAME', () => {
    const ex = (p: string) => p === 'multi.tar';
    expect(splitSelector('multi.tar', ex)).toEqual({ path: 'multi.tar', selector: null });
    expect(splitSelector('multi.tar:localhost/t-app:latest', ex)).toEqual({ path: 'multi.tar', selector: 'localhost/t-app:latest' });
  });
  it('short names', () => {
    expect(matchesName('localhost/t-app:latest', 't-app')).toBe(true);
    expect(matchesName('localhost/t-app:latest', 't-app:latest')).toBe(true);
    expect(matchesName('localhost/t-app:latest', 'app')).toBe(false);
    expect(matchesName('latest', 'latest')).toBe(true);
  });
  it('image archive members', () => {
    expect(looksLikeImageMember('manifest.json')).toBe(true);
    expect(looksLikeImageMember(`${'a'.repeat(64)}.tar`)).toBe(true);
    expect(looksLikeImageMember('./etc/')).toBe(false);
  });
});
