/**
 * Manifests and indexes (manifest lists): parsed with zod, told apart by the response's
 * Content-Type and the document's own mediaType, which must agree (CVE-2021-41190: a
 * document that could be read as both a manifest and an index is refused). Pure.
 */
import { z } from 'zod';
import { isDigest } from './digest.js';
import { RegistryError } from './errors.js';
import { bareMediaType, DOCKER_CONFIG, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED, INDEX_TYPES, LAYER_TYPES, MANIFEST_TYPES, OCI_CONFIG, OCI_INDEX, OCI_MANIFEST } from './media-types.js';

const platformSchema = z.object({
  architecture: z.string().max(64),
  os: z.string().max(64),
  variant: z.string().max(64).optional(),
  'os.version': z.string().max(256).optional(),
  'os.features': z.array(z.string()).optional(),
});

export const descriptorSchema = z.object({
  mediaType: z.string().min(1).max(256),
  digest: z.string().refine(isDigest, 'invalid digest'),
  size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  urls: z.array(z.string()).optional(),
  annotations: z.record(z.string()).optional(),
  platform: platformSchema.optional(),
});
export type Descriptor = z.infer<typeof descriptorSchema>;
export type Platform = z.infer<typeof platformSchema>;

const manifestSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema).max(1000),
  annotations: z.record(z.string()).optional(),
});
export type ImageManifest = z.infer<typeof manifestSchema>;

const indexSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(descriptorSchema).max(10_000),
  annotations: z.record(z.string()).optional(),
});
export type ImageIndex = z.infer<typeof indexSchema>;

export type ParsedManifest = { kind: 'manifest'; mediaType: string; manifest: ImageManifest } | { kind: 'index'; mediaType: string; index: ImageIndex };

function bad(what: string, hint = 'The registry sent a manifest tsbox cannot use.'): RegistryError {
  return new RegistryError(`manifest: ${what}`, { hint });
}

/** Parse a manifest or index document fetched with Content-Type `contentType`. */
export function parseManifest(bytes: Buffer, contentType: string | undefined): ParsedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw bad('not valid JSON');
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw bad('not a JSON object');
  const o = doc as Record<string, unknown>;
  const header = bareMediaType(contentType);
  const field = typeof o.mediaType === 'string' ? o.mediaType : undefined;
  if ([DOCKER_SCHEMA1, DOCKER_SCHEMA1_SIGNED].includes(header) || o.schemaVersion === 1) {
    throw bad('docker schema 1 manifests are not supported', 'Push the image again with a current client (schema 2 or OCI).');
  }
  if ('manifests' in o && ('layers' in o || 'config' in o)) throw bad('the document has both "manifests" and "layers"/"config": ambiguous, refused');
  // The document's own type wins when the header is generic (application/json, octet-stream); they must not disagree.
  const known = (t: string | undefined) => t !== undefined && ([...MANIFEST_TYPES, ...INDEX_TYPES] as string[]).includes(t);
  if (known(header) && field !== undefined && field !== header) throw bad(`Content-Type ${header} but the document says ${field}`);
  const mediaType = known(header) ? header : field ?? ('manifests' in o ? OCI_INDEX : OCI_MANIFEST);
  if ((INDEX_TYPES as readonly string[]).includes(mediaType)) {
    if (!('manifests' in o)) throw bad(`a ${mediaType} without "manifests"`);
    const r = indexSchema.safeParse(o);
    if (!r.success) throw bad(`invalid index: ${describeIssue(r.error)}`);
    return { kind: 'index', mediaType, index: r.data };
  }
  if ((MANIFEST_TYPES as readonly string[]).includes(mediaType)) {
    const r = manifestSchema.safeParse(o);
    if (!r.success) throw bad(`invalid manifest: ${describeIssue(r.error)}`);
    checkManifestContents(r.data, mediaType);
    return { kind: 'manifest', mediaType, manifest: r.data };
  }
  throw bad(`unsupported media type '${mediaType.slice(0, 100)}'`);
}

function describeIssue(err: z.ZodError): string {
  const i = err.issues[0]!;
  return `${i.path.join('.') || 'document'}: ${i.message}`;
}

/** A manifest's config must be an image config, its layers of a type the image store can unpack. */
function checkManifestContents(m: ImageManifest, mediaType: string): void {
  const configTypes = mediaType === DOCKER_MANIFEST ? [DOCKER_CONFIG] : [OCI_CONFIG, DOCKER_CONFIG];
  if (!configTypes.includes(m.config.mediaType)) throw bad(`config media type '${m.config.mediaType.slice(0, 100)}' is not an image config`, 'This is an artifact (a signature, SBOM, chart...), not a runnable image.');
  for (const l of m.layers) {
    if (!(l.mediaType in LAYER_TYPES)) throw bad(`layer ${l.digest} has unsupported media type '${l.mediaType.slice(0, 100)}'`);
  }
  if (m.layers.length === 0) throw bad('the image has no layers');
}

/** The host's platform in OCI terms (Node's process.arch → GOARCH names). */
export function hostPlatform(arch: string = process.arch): Platform {
  const map: Record<string, Platform> = {
    x64: { os: 'linux', architecture: 'amd64' },
    arm64: { os: 'linux', architecture: 'arm64', variant: 'v8' },
    arm: { os: 'linux', architecture: 'arm', variant: 'v7' },
    ia32: { os: 'linux', architecture: '386' },
    ppc64: { os: 'linux', architecture: 'ppc64le' },
    s390x: { os: 'linux', architecture: 's390x' },
    riscv64: { os: 'linux', architecture: 'riscv64' },
  };
  return map[arch] ?? { os: 'linux', architecture: arch };
}

/**
 * The entry of an index for `platform`, as containerd's matcher does: same os and
 * architecture; a variant that matches exactly is preferred, an entry without a variant
 * is next (arm64's v8 is the default). Entries that are not image manifests
 * (attestations, nested indexes are handled by the caller) are skipped.
 */
export function choosePlatform(index: ImageIndex, platform: Platform): Descriptor | undefined {
  const candidates = index.manifests.filter((d) => d.platform !== undefined && d.platform.os === platform.os && d.platform.architecture === platform.architecture);
  const usable = candidates.filter((d) => [...MANIFEST_TYPES, ...INDEX_TYPES, DOCKER_MANIFEST_LIST].includes(d.mediaType as never));
  const exact = usable.find((d) => d.platform!.variant === platform.variant);
  if (exact) return exact;
  const noVariant = usable.find((d) => d.platform!.variant === undefined);
  if (noVariant && (platform.variant === undefined || platform.variant === 'v8')) return noVariant;
  return undefined;
}

export function describePlatforms(index: ImageIndex): string {
  const names = index.manifests.filter((d) => d.platform).map((d) => `${d.platform!.os}/${d.platform!.architecture}${d.platform!.variant ? `/${d.platform!.variant}` : ''}`);
  return names.length > 0 ? [...new Set(names)].join(', ') : 'none';
}
