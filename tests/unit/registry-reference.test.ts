/**
 * Image references against docker's grammar and normalisation (distribution/reference:
 * reference.go's grammar, normalize.go's short names). Cases mirror what `docker pull`
 * accepts and refuses.
 */
import { describe, expect, it } from 'vitest';
import { familiarName, formatReference, manifestReference, parseReference } from '../../src/registry/reference.js';

const HEX = 'a'.repeat(64);

describe('parseReference: docker normalisation', () => {
  const cases: [string, string][] = [
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox:latest'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['docker.io/library/busybox:tag', 'docker.io/library/busybox:tag'],
    ['foo/bar', 'docker.io/foo/bar:latest'],
    ['foo/bar/baz', 'docker.io/foo/bar/baz:latest'],
    ['localhost/foo', 'localhost/foo:latest'],
    ['localhost:5000/foo:tag', 'localhost:5000/foo:tag'],
    ['127.0.0.1:5000/t/app:v2s2', '127.0.0.1:5000/t/app:v2s2'],
    ['registry.example/app', 'registry.example/app:latest'],
    ['[::1]:5000/foo', '[::1]:5000/foo:latest'],
    ['Foo/bar', 'Foo/bar:latest'], // an upper-case first component can only be a host
    ['localhost:5000', 'docker.io/library/localhost:5000'], // no "/": the ":" starts a tag
    ['foo__bar', 'docker.io/library/foo__bar:latest'],
    ['foo--bar', 'docker.io/library/foo--bar:latest'],
    ['foo.bar_baz-qux', 'docker.io/library/foo.bar_baz-qux:latest'],
    [`host:5000/repo@sha256:${HEX}`, `host:5000/repo@sha256:${HEX}`],
    [`repo:tag@sha256:${HEX}`, `docker.io/library/repo:tag@sha256:${HEX}`],
    [`repo@sha512:${'b'.repeat(128)}`, `docker.io/library/repo@sha512:${'b'.repeat(128)}`],
    [`repo:${'t'.repeat(128)}`, `docker.io/library/repo:${'t'.repeat(128)}`],
  ];
  for (const [input, want] of cases) {
    it(`${input} → ${want}`, () => {
      expect(formatReference(parseReference(input))).toBe(want);
    });
  }

  it('splits domain and path', () => {
    expect(parseReference('127.0.0.1:5000/t/app:v1')).toEqual({ domain: '127.0.0.1:5000', path: 't/app', tag: 'v1', digest: undefined });
    expect(parseReference(`app@sha256:${HEX}`)).toEqual({ domain: 'docker.io', path: 'library/app', tag: undefined, digest: `sha256:${HEX}` });
  });

  it('asks the registry for the digest when there is one, even with a tag', () => {
    expect(manifestReference(parseReference(`repo:tag@sha256:${HEX}`))).toBe(`sha256:${HEX}`);
    expect(manifestReference(parseReference('repo'))).toBe('latest');
  });

  it('prints the familiar form', () => {
    expect(familiarName(parseReference('busybox'))).toBe('busybox:latest');
    expect(familiarName(parseReference('foo/bar:1'))).toBe('foo/bar:1');
    expect(familiarName(parseReference('localhost:5000/foo'))).toBe('localhost:5000/foo:latest');
  });
});

describe('parseReference: refused like docker', () => {
  const bad = [
    '',
    ':tag',
    'foo:',
    'foo@',
    'foo/',
    '/foo',
    'foo//bar',
    'foo___bar',
    'foo.-bar',
    '-foo',
    'foo-',
    '_foo',
    'docker.io/Library/busybox', // the path must be lower-case
    'Busybox',
    HEX, // an image id, not a name
    `repo:${'t'.repeat(129)}`,
    'repo:-tag',
    'repo@sha256:abc',
    `repo@sha256:${'A'.repeat(64)}`,
    `repo@md5:${'a'.repeat(32)}`,
    '[fe80::1%eth0]:5000/foo',
    'host:port/foo',
    'foo bar',
    'foo/../bar',
    `${'a'.repeat(250)}/${'b'.repeat(10)}`, // over 255 characters with docker.io/
  ];
  for (const input of bad) {
    it(`refuses '${input.slice(0, 40)}'`, () => {
      expect(() => parseReference(input)).toThrow(/invalid reference format/);
    });
  }
});
