/**
 * Run by tests/integration/mounts-bind-fallback.test.ts as `unshare -m node THIS BASE MODE`:
 * applies real mount steps (the built dist/) to the scratch root BASE/root, with the new
 * mount API as the kernel has it (MODE "native") or made to fail with ENOSYS as on older
 * kernels ("no-open-tree": before 5.2; "no-setattr": 5.2 to 5.11), and reports, as one JSON
 * line, what the kernel says: each target's mount options, the errno of a write, and whether
 * the fallback's staging point is gone.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { applyMountStep, finishMounts, linuxBindSys } from '../../dist/mounts/apply.js';
import { mount, MS } from '../../dist/sys/mount.js';

const [base, mode] = process.argv.slice(2);
const root = `${base}/root`;
const enosys = () => {
  throw Object.assign(new Error('ENOSYS'), { code: 'ENOSYS' });
};
const sys = mode === 'no-open-tree' ? { ...linuxBindSys, openTreeClone: enosys } : mode === 'no-setattr' ? { ...linuxBindSys, mountSetattrTree: enosys } : linuxBindSys;

mount(null, '/', null, MS.REC | MS.PRIVATE);
const steps = [
  { op: 'mount', fstype: 'tmpfs', source: 'tmpfs', target: '/dev', flags: MS.NOSUID, data: 'size=1m', create: 'dir' },
  { op: 'bind', source: `${base}/src`, target: '/vol', readOnly: true, create: 'dir', flags: MS.NODEV },
  { op: 'bind', source: `${base}/file`, target: '/etc/f', readOnly: true, create: 'file' },
  { op: 'bind', source: `${base}/src`, target: '/rw', readOnly: false, create: 'dir' },
  { op: 'readonly', target: '/kept' },
  { op: 'mask', target: '/secret' },
];
for (const step of steps) applyMountStep(root, step, sys);
finishMounts();

const table = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean).map((l) => l.split(' '));
const optionsAt = (p) => table.filter((f) => f[4] === `${root}${p}`).map((f) => f[5]).pop() ?? null;
const writeErr = (p) => {
  try {
    writeFileSync(p, 'w');
    return 'written';
  } catch (e) {
    return e.code;
  }
};
console.log(JSON.stringify({
  vol: { options: optionsAt('/vol'), write: writeErr(`${root}/vol/new`), sub: optionsAt('/vol/sub') },
  file: { options: optionsAt('/etc/f'), write: writeErr(`${root}/etc/f`) },
  rw: { options: optionsAt('/rw'), write: writeErr(`${root}/rw/new-rw`) },
  kept: { options: optionsAt('/kept'), write: writeErr(`${root}/kept/new`) },
  secret: { options: optionsAt('/secret'), content: readFileSync(`${root}/secret`, 'utf8'), write: writeErr(`${root}/secret`) },
  staging: existsSync(`${root}/dev/.tsbox-bind`),
}));
