/**
 * resolve(ref) → the platform's image manifest, its verified config and its layer
 * descriptors: the whole metadata side of a pull, before any layer is fetched.
 * Every document is bounded in size and checked against its digest: the manifest against
 * the digest it was pulled by (or, by tag, against the registry's Docker-Content-Digest),
 * the platform manifest against the index entry, the config against the manifest.
 */
import { z } from 'zod';
import { checkDigest, digestOf, isDigest, verifyBytes } from './digest.js';
import { RegistryError } from './errors.js';
import { readBounded } from './http.js';
import { choosePlatform, describePlatforms, hostPlatform, parseManifest, type Descriptor, type ImageManifest, type Platform } from './manifest.js';
import { MANIFEST_ACCEPT } from './media-types.js';
import { formatReference, manifestReference, type ImageReference } from './reference.js';
import type { RegistrySession } from './session.js';

export const MAX_MANIFEST_BYTES = 4 << 20;
export const MAX_CONFIG_BYTES = 8 << 20;
const MAX_INDEX_DEPTH = 2;

export interface ResolvedImage {
  reference: ImageReference;
  /** The digest of the platform's image manifest (what `pull` prints, what pins the image). */
  manifestDigest: string;
  /** The digest the reference itself resolved to: the index's when it named an index. */
  topDigest: string;
  /** That document's bytes (kept, so that a later pull by this digest needs no registry). */
  topBytes: Buffer;
  manifestMediaType: string;
  manifestBytes: Buffer;
  manifest: ImageManifest;
  config: { descriptor: Descriptor; bytes: Buffer; diffIds: string[] };
  layers: Descriptor[];
}

interface Fetched {
  bytes: Buffer;
  contentType: string | undefined;
  digest: string;
}

async function fetchManifest(session: RegistrySession, reference: string, expected: Descriptor | undefined): Promise<Fetched> {
  const res = await session.request('GET', `${session.repository}/manifests/${reference}`, { Accept: MANIFEST_ACCEPT });
  if (res.statusCode !== 200) throw await session.failure(res, `manifest ${reference}`);
  if (expected && expected.size > MAX_MANIFEST_BYTES) throw new RegistryError(`manifest ${expected.digest} claims ${expected.size} bytes, more than ${MAX_MANIFEST_BYTES}`);
  const bytes = await readBounded(res, expected ? expected.size : MAX_MANIFEST_BYTES, `manifest ${reference}`);
  const header = res.headers['docker-content-digest'];
  let digest: string;
  if (isDigest(reference)) {
    verifyBytes(bytes, reference, `manifest ${reference}`);
    digest = reference;
  } else {
    digest = digestOf(bytes);
    // By tag nothing names the expected bytes but the registry's header: when it is there, it must agree.
    if (typeof header === 'string' && isDigest(header) && header.startsWith('sha256:') && header !== digest) {
      throw new RegistryError(`manifest ${reference}: digest mismatch: the registry says ${header}, the bytes are ${digest}`, { hint: 'The registry storage or a proxy altered the manifest.' });
    }
  }
  if (expected && bytes.length !== expected.size) throw new RegistryError(`manifest ${expected.digest}: ${bytes.length} bytes, the index says ${expected.size}`);
  const check = expected ? `size and digest match the index entry` : isDigest(reference) ? 'digest matches the one asked for' : typeof header === 'string' && isDigest(header) ? 'digest matches the Docker-Content-Digest header' : 'digest computed (a tag names no digest to check it against)';
  session.trace?.('fetch manifest', `GET /v2/${session.repository}/manifests/${reference} = 200: ${bytes.length} bytes, ${digest}, ${check}`);
  return { bytes, contentType: res.headers['content-type'], digest };
}

const configSchema = z.object({
  rootfs: z.object({ type: z.literal('layers'), diff_ids: z.array(z.string()) }),
}).passthrough();

async function fetchConfig(session: RegistrySession, d: Descriptor): Promise<Buffer> {
  if (d.size > MAX_CONFIG_BYTES) throw new RegistryError(`config ${d.digest} claims ${d.size} bytes, more than ${MAX_CONFIG_BYTES}`, { hint: 'A config that large is not an image config.' });
  const res = await session.request('GET', `${session.repository}/blobs/${d.digest}`);
  if (res.statusCode !== 200) throw await session.failure(res, `config ${d.digest}`);
  const bytes = await readBounded(res, d.size, `config ${d.digest}`);
  if (bytes.length !== d.size) throw new RegistryError(`config ${d.digest}: ${bytes.length} bytes, the manifest says ${d.size}`);
  verifyBytes(bytes, d.digest, `config ${d.digest}`);
  session.trace?.('fetch config', `GET /v2/${session.repository}/blobs/${d.digest} = 200: ${bytes.length} bytes, size and digest match the manifest`);
  return bytes;
}

function diffIdsOf(bytes: Buffer, manifest: ImageManifest): string[] {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new RegistryError('image config is not valid JSON');
  }
  const r = configSchema.safeParse(json);
  if (!r.success) throw new RegistryError('image config has no rootfs.diff_ids');
  const ids = r.data.rootfs.diff_ids.map((id, i) => checkDigest(id, `diff_id ${i}`));
  if (ids.length !== manifest.layers.length) throw new RegistryError(`the manifest lists ${manifest.layers.length} layers, the config ${ids.length} diff_ids`, { hint: 'The image is inconsistent.' });
  return ids;
}

export async function resolveImage(session: RegistrySession, ref: ImageReference, platform: Platform = hostPlatform()): Promise<ResolvedImage> {
  const top = await fetchManifest(session, manifestReference(ref), undefined);
  let current = top;
  let expected: Descriptor | undefined;
  for (let depth = 0; ; depth++) {
    const parsed = parseManifest(current.bytes, current.contentType);
    if (expected && parsed.mediaType !== expected.mediaType) throw new RegistryError(`manifest ${expected.digest} is a ${parsed.mediaType}, the index says ${expected.mediaType}`);
    if (parsed.kind === 'manifest') {
      session.trace?.('fetch manifest', `${current.digest} is an image manifest (${parsed.mediaType}): config ${parsed.manifest.config.digest} (${parsed.manifest.config.size} bytes), ${parsed.manifest.layers.length} layer${parsed.manifest.layers.length === 1 ? '' : 's'}`);
      const bytes = await fetchConfig(session, parsed.manifest.config);
      const diffIds = diffIdsOf(bytes, parsed.manifest);
      session.trace?.('fetch config', `diff_ids (the digests of the uncompressed layers): ${diffIds.join(', ')}`);
      return {
        reference: ref,
        manifestDigest: current.digest,
        topDigest: top.digest,
        topBytes: top.bytes,
        manifestMediaType: parsed.mediaType,
        manifestBytes: current.bytes,
        manifest: parsed.manifest,
        config: { descriptor: parsed.manifest.config, bytes, diffIds },
        layers: parsed.manifest.layers,
      };
    }
    if (depth >= MAX_INDEX_DEPTH) throw new RegistryError(`${formatReference(ref)}: indexes nested deeper than ${MAX_INDEX_DEPTH}`);
    const entry = choosePlatform(parsed.index, platform);
    if (!entry) {
      throw new RegistryError(`${formatReference(ref)} has no image for ${platform.os}/${platform.architecture}${platform.variant ? `/${platform.variant}` : ''}`, { hint: `It has: ${describePlatforms(parsed.index)}.` });
    }
    session.trace?.('fetch manifest', `${current.digest} is an index (${parsed.mediaType}) of ${parsed.index.manifests.length} manifests: for ${platform.os}/${platform.architecture}${platform.variant ? `/${platform.variant}` : ''} it names ${entry.digest} (${entry.size} bytes)`);
    expected = entry;
    current = await fetchManifest(session, entry.digest, entry);
  }
}
