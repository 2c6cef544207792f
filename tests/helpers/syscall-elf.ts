/**
 * A tiny static x86_64 program, written byte by byte, that makes ONE system call and exits
 * with its errno (0 when the call succeeded). busybox has no keyctl and no way to issue
 * ioctl(TIOCSTI), and tsbox compiles no C: these ~200 bytes of machine code are the
 * honest way to ask the kernel exactly one question from inside a container.
 *
 *   movabs rax, nr ; movabs rdi, a1 ; movabs rsi, a2 ; movabs rdx, a3 ; syscall
 *   mov rdi, rax ; neg rdi ; xor eax, eax ; test rdi, rdi ; cmovs rdi, rax   (errno, or 0)
 *   mov eax, 60 ; syscall                                                    (exit)
 *   data: the bytes an argument given as a Buffer points to
 */
const BASE = 0x400000n;
const EHDR = 64;
const PHDR = 56;
const CODE = 64;

export type Arg = bigint | number | Buffer;

export function syscallElf(nr: number, args: [Arg?, Arg?, Arg?] = []): Buffer {
  const data = (args.find((a) => Buffer.isBuffer(a)) as Buffer | undefined) ?? Buffer.alloc(0);
  const dataAddr = BASE + BigInt(EHDR + PHDR + CODE);
  const total = EHDR + PHDR + CODE + data.length;
  const imm = (a: Arg | undefined): bigint => (a === undefined ? 0n : Buffer.isBuffer(a) ? dataAddr : BigInt.asUintN(64, BigInt(a)));

  const elf = Buffer.alloc(total);
  // ELF header
  elf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0);
  elf.writeUInt16LE(2, 16); // ET_EXEC
  elf.writeUInt16LE(0x3e, 18); // EM_X86_64
  elf.writeUInt32LE(1, 20);
  elf.writeBigUInt64LE(BASE + BigInt(EHDR + PHDR), 24); // e_entry
  elf.writeBigUInt64LE(BigInt(EHDR), 32); // e_phoff
  elf.writeUInt16LE(EHDR, 52);
  elf.writeUInt16LE(PHDR, 54);
  elf.writeUInt16LE(1, 56); // e_phnum
  // One PT_LOAD segment, R+X, the whole file
  elf.writeUInt32LE(1, EHDR);
  elf.writeUInt32LE(5, EHDR + 4);
  elf.writeBigUInt64LE(BASE, EHDR + 16);
  elf.writeBigUInt64LE(BASE, EHDR + 24);
  elf.writeBigUInt64LE(BigInt(total), EHDR + 32);
  elf.writeBigUInt64LE(BigInt(total), EHDR + 40);
  elf.writeBigUInt64LE(0x1000n, EHDR + 48);
  // Code
  const code: number[] = [];
  const movabs = (reg: number, v: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(v);
    code.push(0x48, reg, ...b);
  };
  movabs(0xb8, BigInt(nr)); // rax
  movabs(0xbf, imm(args[0])); // rdi
  movabs(0xbe, imm(args[1])); // rsi
  movabs(0xba, imm(args[2])); // rdx
  code.push(0x0f, 0x05);
  code.push(0x48, 0x89, 0xc7, 0x48, 0xf7, 0xdf, 0x31, 0xc0, 0x48, 0x85, 0xff, 0x48, 0x0f, 0x48, 0xf8);
  code.push(0xb8, 60, 0, 0, 0, 0x0f, 0x05);
  if (code.length !== CODE) throw new Error(`code is ${code.length} bytes, expected ${CODE}`);
  elf.set(code, EHDR + PHDR);
  data.copy(elf, EHDR + PHDR + CODE);
  return elf;
}

export const SYS_IOCTL = 16;
export const SYS_KEYCTL = 250;
export const TIOCSTI = 0x5412;
export const KEYCTL_JOIN_SESSION_KEYRING = 1;
