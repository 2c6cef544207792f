/**
 * -u USER[:GROUP] resolved against the container's own /etc/passwd and /etc/group,
 * as docker does. Pure: the files' contents are passed in.
 */
import { UsageError } from '../errors.js';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

interface PasswdEntry { name: string; uid: number; gid: number; home: string }
interface GroupEntry { name: string; gid: number; members: string[] }

const ID_MAX = 0xfffffffe; // (uid_t)-1 means "unchanged" to the kernel and is never a valid id

export function parsePasswd(text: string | null): PasswdEntry[] {
  return records(text, 7).map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! }))
    .filter((e) => isId(e.uid) && isId(e.gid));
}

export function parseGroup(text: string | null): GroupEntry[] {
  return records(text, 4).map((f) => ({ name: f[0]!, gid: Number(f[2]), members: f[3]!.split(',').filter(Boolean) }))
    .filter((e) => isId(e.gid));
}

function records(text: string | null, fields: number): string[][] {
  if (!text) return [];
  return text.split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => line.split(':'))
    .filter((f) => f.length >= fields);
}

function isId(n: number): boolean {
  return Number.isInteger(n) && n >= 0 && n <= ID_MAX;
}

function numeric(s: string): number | null {
  if (!/^\d+$/.test(s)) return null;
  const n = Number(s);
  return isId(n) ? n : null;
}

export function resolveUser(spec: string | null, passwdText: string | null, groupText: string | null): ResolvedUser {
  const passwd = parsePasswd(passwdText);
  const groups = parseGroup(groupText);
  const [userPart = '', groupPart] = (spec ?? '').split(':', 2);

  let uid = 0;
  let gid = 0;
  let home = '/';
  let name: string | null = null;
  const byUid = (id: number) => passwd.find((e) => e.uid === id);

  if (userPart === '' || numeric(userPart) !== null) {
    uid = userPart === '' ? 0 : numeric(userPart)!;
    const entry = byUid(uid);
    if (entry) ({ gid, home, name } = entry);
    else if (uid === 0) home = '/root';
  } else {
    const entry = passwd.find((e) => e.name === userPart);
    if (!entry) {
      throw new UsageError(`user '${userPart}' not found in the container's /etc/passwd`, {
        hint: 'Use a numeric UID (-u 1000), or add the user to the image.',
      });
    }
    ({ uid, gid, home, name } = entry);
  }

  if (groupPart !== undefined) {
    const n = numeric(groupPart);
    if (n !== null) gid = n;
    else {
      const entry = groups.find((g) => g.name === groupPart);
      if (!entry) {
        throw new UsageError(`group '${groupPart}' not found in the container's /etc/group`, {
          hint: 'Use a numeric GID (-u 1000:1000), or add the group to the image.',
        });
      }
      gid = entry.gid;
    }
  }

  // Supplementary groups: every group that lists the user by name, as login(1) would set up.
  const additionalGids = name === null ? [] : groups.filter((g) => g.members.includes(name!) && g.gid !== gid).map((g) => g.gid);
  return { uid, gid, additionalGids: [...new Set(additionalGids)], home };
}

/** Validate the syntax of -u before anything is created (the names are looked up later, inside). */
export function checkUserSpec(spec: string): void {
  const m = /^([^:\s]+)(?::([^:\s]+))?$/.exec(spec);
  const bad = (why: string) => new UsageError(`invalid --user '${spec}': ${why}`, { hint: 'Use -u UID[:GID] or -u NAME[:GROUP], e.g. -u 1000:1000 or -u nobody.' });
  if (!m) throw bad('expected USER or USER:GROUP');
  for (const part of [m[1], m[2]]) {
    if (part === undefined) continue;
    if (/^\d+$/.test(part) && numeric(part) === null) throw bad(`${part} is out of range`);
    if (!/^\d+$/.test(part) && !/^[A-Za-z_][A-Za-z0-9_.-]*\$?$/.test(part)) throw bad(`'${part}' is not a valid user or group name`);
  }
}
