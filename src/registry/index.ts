/**
 * The registry client: what the image store needs from a registry.
 *   const image = await resolve('host:5000/app:1', { signal })  // manifest, verified config, layer descriptors
 *   await image.fetchBlob(image.layers[i], destFile, progress)  // a verified file at destFile
 *   image.close()
 * (or the pieces: openSession, resolveImage, fetchBlob).
 */
export { parseReference, formatReference, familiarName, type ImageReference } from './reference.js';
export { RegistrySession, type SessionOptions } from './session.js';
export { resolveImage, type ResolvedImage } from './resolve.js';
export { fetchBlob, type BlobProgress, type FetchBlobOptions } from './fetch-blob.js';
export { findCredentials, storeCredentials, credentialPaths, type Credentials } from './credentials.js';
export { hostPlatform, type Descriptor, type ImageManifest } from './manifest.js';
export { LAYER_TYPES } from './media-types.js';
export { RegistryError, PullInterrupted } from './errors.js';

import { findCredentials } from './credentials.js';
import { fetchBlob as fetchBlobWith, type BlobProgress as Progress } from './fetch-blob.js';
import type { Descriptor as Desc } from './manifest.js';
import { parseReference as parse, type ImageReference } from './reference.js';
import { resolveImage as resolveWith, type ResolvedImage as Resolved } from './resolve.js';
import { RegistrySession } from './session.js';
import type { TlsSettings } from './tls-policy.js';

export interface RemoteImage extends Resolved {
  /** Download one of this image's blobs to destFile, verified; resumes from destFile + ".partial". */
  fetchBlob(descriptor: Desc, destFile: string, progress?: Progress): Promise<void>;
  /** Release the connections. */
  close(): void;
}

/** resolve(ref) → the host platform's manifest, its verified config and its layers, and a fetchBlob bound to the registry. */
export async function resolve(refText: string, options: TlsSettings & { signal?: AbortSignal } = {}): Promise<RemoteImage> {
  const ref = parse(refText);
  const session = openSession(ref, options);
  try {
    const image = await resolveWith(session, ref);
    return {
      ...image,
      fetchBlob: (descriptor, destFile, progress) => fetchBlobWith(session, descriptor, destFile, { progress, signal: options.signal }),
      close: () => session.close(),
    };
  } catch (err) {
    session.close();
    throw err;
  }
}

/** A session for the reference's registry and repository, with the stored credentials for that registry only. */
export function openSession(ref: ImageReference, options: TlsSettings & { signal?: AbortSignal } = {}): RegistrySession {
  return new RegistrySession(ref.domain, ref.path, { ...options, credentials: findCredentials(ref.domain) });
}
