/**
 * The registry client: what the image store needs from a registry.
 *   const session = openSession(ref, options)
 *   const image = await resolveImage(session, ref)        // manifest, verified config, layer descriptors
 *   await fetchBlob(session, image.layers[i], destFile, { progress, signal })  // a verified file
 */
export { parseReference, formatReference, familiarName, type ImageReference } from './reference.js';
export { RegistrySession, type SessionOptions } from './session.js';
export { resolveImage, type ResolvedImage } from './resolve.js';
export { fetchBlob, type BlobProgress, type FetchBlobOptions } from './fetch-blob.js';
export { findCredentials, storeCredentials, credentialPaths, type Credentials } from './credentials.js';
export { hostPlatform, type Descriptor, type ImageManifest } from './manifest.js';
export { LAYER_TYPES } from './media-types.js';
export { RegistryError, PullInterrupted } from './errors.js';
export { pullToCache } from './pull.js';

import { findCredentials } from './credentials.js';
import type { ImageReference } from './reference.js';
import { RegistrySession } from './session.js';
import type { TlsSettings } from './tls-policy.js';

/** A session for the reference's registry and repository, with the stored credentials for that registry only. */
export function openSession(ref: ImageReference, options: TlsSettings & { signal?: AbortSignal } = {}): RegistrySession {
  return new RegistrySession(ref.domain, ref.path, { ...options, credentials: findCredentials(ref.domain) });
}
