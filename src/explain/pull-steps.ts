/**
 * What --explain says about `tsbox pull` (step names: registry/trace.ts PULL_STEPS). In
 * dist/explain.cjs only, as steps.ts.
 */
import type { StepText } from './steps.js';

export const PULL_STEP_TEXTS: readonly StepText[] = [
  {
    match: 'resolve reference',
    what: 'The reference is split into a registry host, a repository and a tag or a digest. A tag is a name the registry may point elsewhere tomorrow; a digest (sha256:...) is the hash of the manifest itself and always names the same bytes.',
  },
  {
    match: 'contact registry',
    what: 'tsbox asks the registry\'s API root (GET /v2/, the OCI distribution API that Docker Registry v2 began) whether it needs authentication: 200 means open, 401 comes with a WWW-Authenticate challenge that says how (Bearer with a token server, or Basic). HTTPS unless the registry is on loopback or marked insecure.',
  },
  {
    match: 'get token',
    what: 'The token dance: tsbox asks the token server named in the challenge for a short-lived bearer token for this repository with the scope "pull" (anonymously, or with the credentials of tsbox login), then sends it with every request. Credentials go only to the registry\'s own origin and to that realm, never to a redirect elsewhere.',
    without: () => 'without a token a registry that asks for one answers 401 to every manifest and blob request.',
  },
  {
    match: 'fetch manifest',
    what: 'The manifest is the image\'s table of contents. By tag, the registry may answer with an index (a list of manifests, one per platform): tsbox picks the one for this host\'s OS and CPU and fetches it by digest. The image manifest names a config and the layers, each by digest and size. Every document is hashed as it arrives and checked against the digest it was asked by (or the one the index or the Docker-Content-Digest header names).',
    without: () => 'without the digest check a registry or a proxy could hand you another manifest than the one the digest names, and with it other layers.',
  },
  {
    match: 'fetch config',
    what: 'The config (a small JSON blob) holds the image\'s defaults (command, environment, user, working directory) and rootfs.diff_ids: the digest of each layer once uncompressed, which the extraction checks.',
    without: () => 'without the size and digest check the config could set another command or user than the manifest promised.',
  },
  {
    match: 'fetch layers',
    what: 'Each layer (a compressed tar of the files it adds, changes or deletes) is downloaded, a few at a time, and extracted while it arrives. The bytes are hashed while they arrive, one byte past the declared size is refused, and they are appended to a partial file so that a broken or killed transfer resumes where it stopped; the layer is committed only once its size and digest match (and its diff_id, below), then the partial file is removed. Layers already in the layer store are not fetched again.',
    without: () => 'without the digest check a registry or a proxy could hand you other bytes than the manifest names, and they would become the files of your container.',
  },
  {
    match: 'extract layers',
    what: 'Each layer is extracted once into the layer store, named by its diff_id, and shared by every image that has it: an image that shares its base with one already stored costs no new extraction. The uncompressed stream is hashed and must equal the diff_id of the config; paths are resolved inside the layer, so an archive cannot write outside it.',
    without: () => 'without the diff_id check the blob digest would prove only the compressed bytes: a layer is identified by what it extracts to.',
  },
  {
    match: 'write image record',
    what: 'The image record (its id, the config digest; its layers in order; its tags) is written, under the images lock: from now on tsbox run, images and rmi know the image. The printed digest is the platform manifest\'s, which pins this exact image.',
  },
];
