import { setgid, setgroups, setuid } from '../sys/process.js';
import type { ResolvedUser } from './users.js';

/** Become the container's user: groups first, uid last (after setuid we may no longer change groups). */
export function switchUser(user: ResolvedUser): void {
  setgroups(user.additionalGids);
  setgid(user.gid);
  setuid(user.uid);
}
