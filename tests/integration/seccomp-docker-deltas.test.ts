/**
 * The syscalls docker's default profile allows and tsbox once denied (issue 10) reach the
 * kernel in a default container: a one-syscall probe (tests/helpers/syscall-elf.ts) gets
 * the same answer inside as on the host, where no filter stands in between. A denial
 * would show as EPERM (exit 1). And the calls docker does not name answer ENOSYS.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { syscallElf } from '../helpers/syscall-elf.js';
import { rootfsTar, tsbox } from '../helpers/tsbox.js';

const EPERM = 1;
const ENOSYS = 38;
/** struct mnt_id_req, version 0 (24 bytes): size, spare, mnt_id, param. mnt_id 0 names no mount. */
const mntIdReq = (): Buffer => {
  const b = Buffer.alloc(24);
  b.writeUInt32LE(24, 0);
  return b;
};

const PROBES = {
  statmount: syscallElf(457, [mntIdReq(), 0, 0]),
  listmount: syscallElf(458, [mntIdReq(), 0, 0]),
  file_getattr: syscallElf(468, [0xffffffff]),
  file_setattr: syscallElf(469, [0xffffffff]),
};

let tools: string;
beforeAll(() => {
  tools = mkdtempSync(join(inject('workDir'), 'deltas-'));
  chmodSync(tools, 0o755);
  for (const [name, elf] of Object.entries(PROBES)) writeFileSync(join(tools, name), elf, { mode: 0o755 });
});
afterAll(() => rmSync(tools, { recursive: true, force: true }));

/** The probe's exit status (its errno) on the host. */
function onHost(name: string): number {
  const r = spawnSync(join(tools, name));
  expect(r.signal).toBeNull();
  return r.status!;
}

async function inContainer(name: string, extra: string[] = []): Promise<number | null> {
  const r = await tsbox(['run', '-v', `${tools}:/t:ro`, ...extra, rootfsTar(), `/t/${name}`]);
  expect(r.stderr).toBe('');
  return r.code;
}

describe('syscalls docker allows work in a default container', () => {
  // uretprobe, the third, is checked at the filter level only (tests/unit/security-docker-
  // deltas.test.ts): recent kernels (this host's 6.18 among them) let it through without
  // asking the filter, so even a profile that denies it gets the kernel's SIGILL: a test in
  // a container could not fail.
  for (const name of ['statmount', 'listmount'] as const) {
    it(`${name} reaches the kernel and gets the host's answer`, async () => {
      const host = onHost(name);
      expect(host, `${name} on the host`).not.toBe(EPERM);
      expect(host, `${name} on the host (kernel too old?)`).not.toBe(ENOSYS);
      expect(await inContainer(name)).toBe(host);
      // Control: a profile that denies it shows what a denial looks like.
      const deny = join(tools, `deny-${name}.json`);
      writeFileSync(deny, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [name], action: 'SCMP_ACT_ERRNO' }] }));
      expect(await inContainer(name, ['--security-opt', `seccomp=${deny}`])).toBe(EPERM);
    });
  }

  it('file_getattr and file_setattr answer ENOSYS, as under docker, whose profile does not name them', async () => {
    for (const name of ['file_getattr', 'file_setattr']) {
      expect(onHost(name), name).not.toBe(ENOSYS); // the host's kernel has them (EBADF for fd -1)
      expect(await inContainer(name), name).toBe(ENOSYS);
    }
  });
});
