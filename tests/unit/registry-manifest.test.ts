/** Manifest/index parsing (media types, ambiguity, schema 1, artifacts) and the platform choice. */
import { describe, expect, it } from 'vitest';
import { choosePlatform, hostPlatform, parseManifest, type ImageIndex } from '../../src/registry/manifest.js';
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST } from '../../src/registry/media-types.js';

const d = (n: string) => `sha256:${n.repeat(64)}`;
const layer = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: d('1'), size: 10 };
const ociManifest = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: d('2'), size: 5 }, layers: [layer] };
const buf = (o: unknown) => Buffer.from(JSON.stringify(o));

describe('parseManifest', () => {
  it('reads an OCI manifest and a docker schema 2 manifest', () => {
    expect(parseManifest(buf(ociManifest), OCI_MANIFEST).kind).toBe('manifest');
    const docker = { ...ociManifest, mediaType: DOCKER_MANIFEST, config: { ...ociManifest.config, mediaType: 'application/vnd.docker.container.image.v1+json' }, layers: [{ ...layer, mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip' }] };
    expect(parseManifest(buf(docker), `${DOCKER_MANIFEST}; charset=utf-8`)).toMatchObject({ kind: 'manifest', mediaType: DOCKER_MANIFEST });
  });

  it('takes the document\'s own type when the header is generic', () => {
    expect(parseManifest(buf(ociManifest), 'application/json').mediaType).toBe(OCI_MANIFEST);
    const index = { schemaVersion: 2, manifests: [] };
    expect(parseManifest(buf(index), 'application/octet-stream').kind).toBe('index');
  });

  it('refuses a document that is both a manifest and an index (CVE-2021-41190)', () => {
    expect(() => parseManifest(buf({ ...ociManifest, manifests: [] }), OCI_INDEX)).toThrow(/both/);
    expect(() => parseManifest(buf({ ...ociManifest, manifests: [] }), OCI_MANIFEST)).toThrow(/both/);
  });

  it('refuses a header and a mediaType that disagree', () => {
    expect(() => parseManifest(buf(ociManifest), DOCKER_MANIFEST)).toThrow(/says/);
  });

  it('refuses schema 1, artifacts, unknown layer types, bad digests, no layers', () => {
    expect(() => parseManifest(buf({ schemaVersion: 1, fsLayers: [] }), 'application/vnd.docker.distribution.manifest.v1+prettyjws')).toThrow(/schema 1/);
    expect(() => parseManifest(buf({ ...ociManifest, config: { ...ociManifest.config, mediaType: 'application/vnd.cncf.helm.config.v1+json' } }), OCI_MANIFEST)).toThrow(/not an image config/);
    expect(() => parseManifest(buf({ ...ociManifest, layers: [{ ...layer, mediaType: 'text/plain' }] }), OCI_MANIFEST)).toThrow(/unsupported media type/);
    expect(() => parseManifest(buf({ ...ociManifest, layers: [{ ...layer, digest: 'sha256:../../etc/passwd' }] }), OCI_MANIFEST)).toThrow(/invalid digest/);
    expect(() => parseManifest(buf({ ...ociManifest, layers: [{ ...layer, size: -1 }] }), OCI_MANIFEST)).toThrow(/invalid manifest/);
    expect(() => parseManifest(buf({ ...ociManifest, layers: [] }), OCI_MANIFEST)).toThrow(/no layers/);
    expect(() => parseManifest(Buffer.from('{'), OCI_MANIFEST)).toThrow(/JSON/);
    expect(() => parseManifest(buf({ ...ociManifest, mediaType: 'application/x-other' }), undefined)).toThrow(/unsupported media type/);
  });
});

describe('choosePlatform', () => {
  const entry = (architecture: string, variant?: string, os = 'linux') => ({ mediaType: OCI_MANIFEST, digest: d(String(architecture.length % 10)), size: 1, platform: { os, architecture, ...(variant ? { variant } : {}) } });
  const index = (...m: ReturnType<typeof entry>[]): ImageIndex => ({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: m });

  it('maps the host to amd64 on x64', () => {
    expect(hostPlatform('x64')).toEqual({ os: 'linux', architecture: 'amd64' });
  });

  it('picks linux/amd64 among others, skipping attestations and other OSes', () => {
    const amd = { ...entry('amd64'), digest: d('a') };
    const chosen = choosePlatform(index(entry('arm64', 'v8'), entry('unknown', undefined, 'unknown'), { ...entry('amd64', undefined, 'windows'), digest: d('w') }, amd), { os: 'linux', architecture: 'amd64' });
    expect(chosen?.digest).toBe(d('a'));
  });

  it('prefers the exact variant and accepts none for arm64 v8', () => {
    const v7 = { ...entry('arm', 'v7'), digest: d('7') };
    const v6 = { ...entry('arm', 'v6'), digest: d('6') };
    expect(choosePlatform(index(v6, v7), { os: 'linux', architecture: 'arm', variant: 'v7' })?.digest).toBe(d('7'));
    const plain = { ...entry('arm64'), digest: d('8') };
    expect(choosePlatform(index(plain), { os: 'linux', architecture: 'arm64', variant: 'v8' })?.digest).toBe(d('8'));
  });

  it('finds nothing when the platform is absent', () => {
    expect(choosePlatform(index(entry('arm64', 'v8')), { os: 'linux', architecture: 'amd64' })).toBeUndefined();
    expect(choosePlatform({ schemaVersion: 2, mediaType: DOCKER_MANIFEST_LIST, manifests: [{ mediaType: OCI_MANIFEST, digest: d('c'), size: 1 }] }, { os: 'linux', architecture: 'amd64' })).toBeUndefined();
  });
});
