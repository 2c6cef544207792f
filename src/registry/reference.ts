/**
 * Image references as docker reads them (github.com/distribution/reference): the grammar
 *   reference := name [":" tag] ["@" digest]
 *   name      := [domain "/"] path
 * and docker's normalisation: a first component that has no "." or ":", is not "localhost"
 * and has no upper-case letter is part of the path, not a host, so `alpine` is
 * docker.io/library/alpine:latest. Pure: no host is looked up or contacted here.
 */
import { UsageError } from '../errors.js';

export const DEFAULT_DOMAIN = 'docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
const NAME_TOTAL_MAX = 255;

// The grammar's pieces, each a regular expression source (no anchors).
const alphaNumeric = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const pathComponent = `${alphaNumeric}(?:${separator}${alphaNumeric})*`;
const domainComponent = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainName = `${domainComponent}(?:\\.${domainComponent})*`;
const ipv6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const domain = `(?:${domainName}|${ipv6})(?::[0-9]+)?`;
const tag = '[\\w][\\w.-]{0,127}';
const digest = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const path = `${pathComponent}(?:/${pathComponent})*`;

const referenceRe = new RegExp(`^((?:${domain}/)?${path})(?::(${tag}))?(?:@(${digest}))?$`);
const anchoredDomainRe = new RegExp(`^${domain}$`);
const identifierRe = /^[a-f0-9]{64}$/;

export interface ImageReference {
  /** The registry as named: "docker.io", "localhost:5000", "[::1]:5000". */
  domain: string;
  /** The repository path inside it: "library/alpine", "t/app". */
  path: string;
  /** The tag; "latest" when neither a tag nor a digest was given. Undefined when only a digest was. */
  tag: string | undefined;
  /** "sha256:<hex>" when pulled by digest. */
  digest: string | undefined;
}

/** Split docker's way: is the part before the first "/" a registry? */
function splitDomain(name: string): { domain: string; remainder: string } {
  const slash = name.indexOf('/');
  const first = slash === -1 ? '' : name.slice(0, slash);
  let domain: string;
  let remainder: string;
  if (slash === -1 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    domain = DEFAULT_DOMAIN;
    remainder = name;
  } else {
    domain = first;
    remainder = name.slice(slash + 1);
  }
  if (domain === DEFAULT_DOMAIN && !remainder.includes('/')) remainder = OFFICIAL_REPO_PREFIX + remainder;
  return { domain, remainder };
}

function invalid(input: string, why: string): UsageError {
  return new UsageError(`invalid reference format '${input}': ${why}`, { step: 'parse reference', hint: 'Use [HOST[:PORT]/]NAME[:TAG][@sha256:DIGEST], e.g. localhost:5000/app:1.0.' });
}

/** Parse a reference as `docker pull` does (ParseNormalizedNamed + default tag). */
export function parseReference(input: string): ImageReference {
  if (identifierRe.test(input)) throw invalid(input, 'a 64-character hexadecimal string is an image id, not a name');
  // The name ends before ":tag" or "@digest"; a ":" inside the domain (a port) comes before the first "/".
  const at = input.indexOf('@');
  const beforeDigest = at === -1 ? input : input.slice(0, at);
  const lastSlash = beforeDigest.lastIndexOf('/');
  const colon = beforeDigest.indexOf(':', lastSlash + 1);
  const name = colon === -1 ? beforeDigest : beforeDigest.slice(0, colon);
  const { domain, remainder } = splitDomain(name);
  if (remainder.toLowerCase() !== remainder) throw invalid(input, `repository name '${remainder}' must be lowercase`);
  const full = `${domain}/${remainder}${input.slice(name.length)}`;
  const m = referenceRe.exec(full);
  if (!m) throw invalid(input, input === '' ? 'empty' : 'does not match the reference grammar');
  const [, fullName, tagPart, digestPart] = m;
  if (fullName!.length > NAME_TOTAL_MAX) throw invalid(input, `repository name is longer than ${NAME_TOTAL_MAX} characters`);
  // The regular expression split the domain off greedily only when it had one; re-split exactly.
  const slash = fullName!.indexOf('/');
  const d = fullName!.slice(0, slash);
  if (!anchoredDomainRe.test(d)) throw invalid(input, `'${d}' is not a valid registry host`);
  let dig: string | undefined;
  if (digestPart !== undefined) dig = validateDigest(digestPart, input);
  return { domain: d, path: fullName!.slice(slash + 1), tag: tagPart ?? (dig === undefined ? 'latest' : undefined), digest: dig };
}

/** The algorithms tsbox can verify; anything else the grammar allows is refused, not trusted. */
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha512: 128 };

function validateDigest(d: string, input: string): string {
  const [alg, hex] = d.split(':') as [string, string];
  const len = DIGEST_HEX_LENGTH[alg];
  if (len === undefined) throw invalid(input, `unsupported digest algorithm '${alg}'`);
  if (hex.length !== len || !/^[0-9a-f]+$/.test(hex)) throw invalid(input, `digest must be ${alg}: and ${len} lower-case hexadecimal characters`);
  return d;
}

/** The canonical string: docker.io/library/alpine:latest, host:5000/app@sha256:... */
export function formatReference(ref: ImageReference): string {
  const name = `${ref.domain}/${ref.path}`;
  return `${name}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** docker's familiar form: alpine:latest, user/app:1, localhost:5000/app:1. */
export function familiarName(ref: ImageReference): string {
  let name = `${ref.domain}/${ref.path}`;
  if (ref.domain === DEFAULT_DOMAIN) name = ref.path.startsWith(OFFICIAL_REPO_PREFIX) ? ref.path.slice(OFFICIAL_REPO_PREFIX.length) : ref.path;
  return `${name}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** What the manifest endpoint is asked for: the digest when there is one (it wins over a tag, as in docker). */
export function manifestReference(ref: ImageReference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}
