import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { checkUserSpec, resolveUser } from '../../src/init/users.js';

const passwd = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\ntsbox:x:1000:1000::/home/tsbox:/bin/sh\n# comment\nbroken:x:abc:0::/:/bin/sh\n';
const group = 'root:x:0:\nwheel:x:10:tsbox,other\nusers:x:100:tsbox\ntsbox:x:1000:\nnogroup:x:65534:\n';

describe('-u resolution against the image', () => {
  it('defaults to root with /root as home', () => {
    expect(resolveUser(null, passwd, group)).toEqual({ uid: 0, gid: 0, additionalGids: [], home: '/root' });
    expect(resolveUser(null, null, null)).toEqual({ uid: 0, gid: 0, additionalGids: [], home: '/root' });
  });

  it('resolves names to ids, primary group and supplementary groups', () => {
    expect(resolveUser('tsbox', passwd, group)).toEqual({ uid: 1000, gid: 1000, additionalGids: [10, 100], home: '/home/tsbox' });
  });

  it('takes a numeric uid that the image does not know, with gid 0 like docker', () => {
    expect(resolveUser('4242', passwd, group)).toEqual({ uid: 4242, gid: 0, additionalGids: [], home: '/' });
  });

  it('uses a numeric uid\'s passwd entry when there is one', () => {
    expect(resolveUser('65534', passwd, group)).toMatchObject({ uid: 65534, gid: 65534, home: '/nonexistent' });
  });

  it('accepts :GROUP by number or name', () => {
    expect(resolveUser('1000:100', passwd, group).gid).toBe(100);
    expect(resolveUser('tsbox:wheel', passwd, group)).toMatchObject({ gid: 10, additionalGids: [100] });
  });

  it('refuses unknown names with a hint', () => {
    expect(() => resolveUser('ghost', passwd, group)).toThrow(/user 'ghost' not found in the container's \/etc\/passwd/);
    expect(() => resolveUser('tsbox:ghosts', passwd, group)).toThrow(/group 'ghosts' not found/);
    expect(() => resolveUser('ghost', passwd, group)).toThrow(UsageError);
  });

  it('checks the syntax before anything runs', () => {
    for (const ok of ['0', '1000:1000', 'nobody', 'www-data:www-data', 'svc_1']) expect(() => checkUserSpec(ok)).not.toThrow();
    for (const bad of ['', ':', 'a:b:c', '1000:', 'bad name', '99999999999', '-x']) expect(() => checkUserSpec(bad)).toThrow(UsageError);
  });
});
