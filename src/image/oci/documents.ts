/**
 * The image documents, parsed with zod: OCI/docker manifests and indexes, the image
 * config, docker-archive's manifest.json. Pure.
 *
 * - Every document is read bounded (MAX_DOCUMENT_BYTES) before JSON.parse: CVE-2023-25153
 *   was an unbounded read of a document.
 * - Every digest is checked (digest.ts) before it can become a path.
 * - A document with both `manifests` and `layers` is refused: CVE-2021-41190 was one
 *   document read as an index by one tool and a manifest by another.
 */
import { z } from 'zod';
import { digestSchema } from './digest.js';

/** Manifests, indexes and configs are a few KiB; this bounds what a hostile one costs. */
export const MAX_DOCUMENT_BYTES = 4 * 1024 * 1024;

export const MEDIA = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
} as const;

/** Layer media types and how their bytes are compressed. Non-distributable ("foreign") ones too: their blob must be present, URLs are never fetched. */
export const LAYER_MEDIA: Record<string, 'none' | 'gzip' | 'zstd'> = {
  'application/vnd.oci.image.layer.v1.tar': 'none',
  'application/vnd.oci.image.layer.v1.tar+gzip': 'gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd': 'zstd',
  'application/vnd.oci.image.layer.nondistributable.v1.tar': 'none',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip': 'gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd': 'zstd',
  'application/vnd.docker.image.rootfs.diff.tar': 'none',
  'application/vnd.docker.image.rootfs.diff.tar.gzip': 'gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip': 'gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar': 'none',
};

export const descriptorSchema = z.object({
  mediaType: z.string().max(255),
  digest: digestSchema,
  size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  urls: z.array(z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  platform: z
    .object({ architecture: z.string(), os: z.string(), variant: z.string().optional(), 'os.version': z.string().optional() })
    .passthrough()
    .optional(),
});
export type Descriptor = z.infer<typeof descriptorSchema>;

export const manifestSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema).max(10_000),
  annotations: z.record(z.string(), z.string()).optional(),
});
export type Manifest = z.infer<typeof manifestSchema>;

export const indexSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(descriptorSchema).max(10_000),
  annotations: z.record(z.string(), z.string()).optional(),
});
export type ImageIndex = z.infer<typeof indexSchema>;

const stringList = z.array(z.string()).nullable().optional();
const emptyObjectMap = z.record(z.string(), z.object({}).passthrough()).nullable().optional();

/** The part of the image config tsbox reads; the rest is kept verbatim for inspect. */
export const imageConfigSchema = z
  .object({
    architecture: z.string().optional(),
    os: z.string().optional(),
    created: z.string().optional(),
    config: z
      .object({
        User: z.string().optional(),
        ExposedPorts: emptyObjectMap,
        Env: stringList,
        Entrypoint: stringList,
        Cmd: stringList,
        Volumes: emptyObjectMap,
        WorkingDir: z.string().optional(),
        Labels: z.record(z.string(), z.string()).nullable().optional(),
        StopSignal: z.string().optional(),
      })
      .passthrough()
      .nullable()
      .optional(),
    rootfs: z.object({ type: z.literal('layers'), diff_ids: z.array(digestSchema).max(10_000) }),
  })
  .passthrough();
export type ImageConfig = z.infer<typeof imageConfigSchema>;

/** docker-archive's manifest.json. */
export const dockerArchiveManifestSchema = z
  .array(
    z.object({
      Config: z.string().max(4096),
      RepoTags: z.array(z.string().max(4096)).nullable().optional(),
      Layers: z.array(z.string().max(4096)).max(10_000),
    }),
  )
  .min(1)
  .max(1000);
export type DockerArchiveManifest = z.infer<typeof dockerArchiveManifestSchema>;

export class DocumentError extends Error {}

/** Parse a bounded JSON document with a schema; one line on failure. */
export function parseDocument<T>(bytes: Uint8Array, schema: z.ZodType<T>, what: string): T {
  if (bytes.length > MAX_DOCUMENT_BYTES) throw new DocumentError(`${what} is larger than ${MAX_DOCUMENT_BYTES / 1024 / 1024} MiB`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8'));
  } catch (err) {
    throw new DocumentError(`${what} is not valid JSON (${(err as Error).message})`);
  }
  if (value !== null && typeof value === 'object' && 'manifests' in value && 'layers' in value) {
    throw new DocumentError(`${what} has both "manifests" and "layers": neither an index nor a manifest`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new DocumentError(`${what} is invalid: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** Is this descriptor an index (nested) rather than a manifest? */
export function isIndexMedia(mediaType: string): boolean {
  return mediaType === MEDIA.ociIndex || mediaType === MEDIA.dockerList;
}

export function isManifestMedia(mediaType: string): boolean {
  return mediaType === MEDIA.ociManifest || mediaType === MEDIA.dockerManifest;
}

/** The host's platform as the image spec names it. */
export const HOST_PLATFORM = { os: 'linux', architecture: process.arch === 'x64' ? 'amd64' : process.arch === 'arm64' ? 'arm64' : process.arch };

/**
 * The index entries to try for the host, best first: entries naming the host platform,
 * then entries with no platform (podman's single-image indexes have none). Attestation
 * manifests ("unknown/unknown") never match.
 */
export function selectForPlatform(index: ImageIndex, platform = HOST_PLATFORM): Descriptor[] {
  const matching = index.manifests.filter((m) => m.platform !== undefined && m.platform.os === platform.os && m.platform.architecture === platform.architecture);
  const unspecified = index.manifests.filter((m) => m.platform === undefined);
  return [...matching, ...unspecified];
}
