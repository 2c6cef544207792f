/**
 * bpf(2), for the one thing tsbox does with it: load a cgroup device program and attach it
 * to a container's group. glibc has no wrapper, hence the raw syscall. The constants live
 * in bpf-constants.ts, so that pure code can use them without loading koffi.
 */
import { check, koffi, rawSyscall, SYS } from './libc.js';
import { BPF_CGROUP_DEVICE, BPF_CMD, BPF_F_ALLOW_MULTI, BPF_PROG_TYPE_CGROUP_DEVICE } from './bpf-constants.js';
import { VerifierRefusal } from './sys-error.js';

/**
 * The BPF_PROG_LOAD part of union bpf_attr, up to expected_attach_type. The kernel takes a
 * shorter attr than its own and treats the missing tail as zeros.
 */
const ProgLoadAttr = koffi.struct('tsbox_bpf_prog_load_attr', {
  prog_type: 'uint32_t',
  insn_cnt: 'uint32_t',
  insns: 'void *',
  license: 'const char *',
  log_level: 'uint32_t',
  log_size: 'uint32_t',
  log_buf: 'void *',
  kern_version: 'uint32_t',
  prog_flags: 'uint32_t',
  prog_name: koffi.array('uint8_t', 16, 'Array'),
  prog_ifindex: 'uint32_t',
  expected_attach_type: 'uint32_t',
});

/** The BPF_PROG_ATTACH part: target_fd, attach_bpf_fd, attach_type, attach_flags, replace_bpf_fd. */
const ProgAttachAttr = koffi.struct('tsbox_bpf_prog_attach_attr', {
  target_fd: 'uint32_t',
  attach_bpf_fd: 'uint32_t',
  attach_type: 'uint32_t',
  attach_flags: 'uint32_t',
  replace_bpf_fd: 'uint32_t',
});

/** EINVAL, EACCES: what the verifier answers when it refuses a program. */
const VERIFIER_REFUSALS = new Set([22, 13]);

export interface ProgLoad {
  type: number;
  /** struct bpf_insn[], 8 bytes each. */
  instructions: Buffer;
  license: string;
  /** At most 15 characters: shown by bpftool and in /proc/PID/fdinfo. */
  name: string;
  expectedAttachType?: number;
}

/**
 * BPF_PROG_LOAD: the verifier checks the program; returns its fd. When the verifier refuses
 * it (EINVAL, EACCES), the load is repeated once with its log, and the log's reason goes
 * into the error: a refusal then says what the verifier disliked.
 */
const EAGAIN_ERRNO = 11;

export function bpfProgLoad(prog: ProgLoad): number {
  if (prog.instructions.length === 0 || prog.instructions.length % 8 !== 0) throw new Error(`eBPF program of ${prog.instructions.length} bytes`);
  const count = prog.instructions.length / 8;
  const name = [...Buffer.from(prog.name.slice(0, 15), 'latin1'), 0];
  while (name.length < 16) name.push(0);
  const attr = {
    prog_type: prog.type,
    insn_cnt: count,
    insns: prog.instructions,
    license: prog.license,
    log_level: 0,
    log_size: 0,
    log_buf: null as Buffer | null,
    kern_version: 0,
    prog_flags: 0,
    prog_name: name,
    prog_ifindex: 0,
    expected_attach_type: prog.expectedAttachType ?? 0,
  };
  const detail = (): string => `BPF_PROG_LOAD, {prog_type: ${prog.type === BPF_PROG_TYPE_CGROUP_DEVICE ? 'BPF_PROG_TYPE_CGROUP_DEVICE' : prog.type}, insn_cnt: ${count}, license: ${JSON.stringify(prog.license)}}`;
  // The verifier gives up with EAGAIN when a signal arrives while it works (a SIGCHLD, a
  // profiler's SIGPROF): the load is simply made again, as libbpf does (it tries five times; tsbox up to fifty).
  const loadOnce = () => Number(rawSyscall(SYS.bpf, 'int', BPF_CMD.PROG_LOAD, koffi.pointer(ProgLoadAttr), attr, 'unsigned int', koffi.sizeof(ProgLoadAttr)) as number | bigint);
  const load = () => {
    let ret = loadOnce();
    for (let tries = 1; ret < 0 && koffi.errno() === EAGAIN_ERRNO && tries < 50; tries++) ret = loadOnce();
    return ret;
  };
  const fd = load();
  if (fd >= 0 || !VERIFIER_REFUSALS.has(koffi.errno())) return check(fd, 'bpf', detail);
  const log = Buffer.alloc(64 * 1024);
  Object.assign(attr, { log_level: 1, log_size: log.length, log_buf: log });
  const again = load();
  if (again >= 0) return again; // a transient refusal: take the program
  const errno = koffi.errno();
  // The log ends with statistics ("processed N insns..."); the reason is the line before.
  const reason = log
    .toString('utf8', 0, Math.max(0, log.indexOf(0)))
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('processed '))
    .pop();
  if (reason === undefined) return check(again, 'bpf', detail);
  throw new VerifierRefusal('bpf', errno, `${detail()}: verifier: ${reason.trim()}`);
}

/** BPF_PROG_ATTACH: hang program `progFd` on the object behind `targetFd` (a cgroup directory). */
export function bpfProgAttach(targetFd: number, progFd: number, attachType: number, flags: number): void {
  const attr = { target_fd: targetFd, attach_bpf_fd: progFd, attach_type: attachType, attach_flags: flags, replace_bpf_fd: 0 };
  const ret = Number(rawSyscall(SYS.bpf, 'int', BPF_CMD.PROG_ATTACH, koffi.pointer(ProgAttachAttr), attr, 'unsigned int', koffi.sizeof(ProgAttachAttr)) as number | bigint);
  check(ret, 'bpf', () => `BPF_PROG_ATTACH, {target_fd: ${targetFd}, attach_bpf_fd: ${progFd}, attach_type: ${attachType === BPF_CGROUP_DEVICE ? 'BPF_CGROUP_DEVICE' : attachType}, attach_flags: ${flags === BPF_F_ALLOW_MULTI ? 'BPF_F_ALLOW_MULTI' : flags}}`);
}
