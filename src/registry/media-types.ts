/** The media types of the OCI image spec and docker's schema 2, and what the client asks for. */

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
export const DOCKER_SCHEMA1 = 'application/vnd.docker.distribution.manifest.v1+json';
export const DOCKER_SCHEMA1_SIGNED = 'application/vnd.docker.distribution.manifest.v1+prettyjws';

export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';

export const MANIFEST_TYPES = [OCI_MANIFEST, DOCKER_MANIFEST] as const;
export const INDEX_TYPES = [OCI_INDEX, DOCKER_MANIFEST_LIST] as const;

/**
 * Sent with every manifest request. Without it a registry converts a schema-2 manifest to a
 * signed schema 1 and answers 404 for an OCI one.
 */
export const MANIFEST_ACCEPT = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST].join(', ');

/** Layer types an image store can unpack: plain, gzip, zstd; docker's and OCI's, distributable or not. */
export const LAYER_TYPES: Record<string, 'tar' | 'gzip' | 'zstd'> = {
  'application/vnd.oci.image.layer.v1.tar': 'tar',
  'application/vnd.oci.image.layer.v1.tar+gzip': 'gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd': 'zstd',
  'application/vnd.oci.image.layer.nondistributable.v1.tar': 'tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip': 'gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd': 'zstd',
  'application/vnd.docker.image.rootfs.diff.tar': 'tar',
  'application/vnd.docker.image.rootfs.diff.tar.gzip': 'gzip',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip': 'gzip',
  'application/vnd.docker.image.rootfs.diff.tar.zstd': 'zstd',
};

/** Content-Type may carry parameters ("; charset=utf-8"). */
export function bareMediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}
