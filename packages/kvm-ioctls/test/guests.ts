/**
 * The guest programs of the KVM tests, hand-assembled (`as` + `objdump`).
 * Real-mode programs are loaded at 0x1000 with CS = 0; 64-bit programs at
 * TestGuestLayout.CODE (0x10000) and run at CPL3.
 */
import { type Instruction, program } from '../src/testing/index.js';

export const REAL_MODE_LOAD = 0x1000;

/** Real mode: port I/O of 1 and 2 bytes, MMIO writes and a read through DS = 0x1000, a `rep outsb`, `hlt`. */
export const REAL_MODE_IO = program([
  ['ba f8 03', 'mov $0x3f8, %dx'],
  ['b0 41', 'mov $0x41, %al'],
  ['ee', 'out %al, (%dx)        # IoOut 0x3f8 [41]'],
  ['ec', 'in (%dx), %al         # IoIn 0x3f8, answered 5a'],
  ['88 c3', 'mov %al, %bl'],
  ['b8 ef be', 'mov $0xbeef, %ax'],
  ['e7 80', 'out %ax, $0x80        # IoOut 0x80 [ef be]'],
  ['b8 00 10', 'mov $0x1000, %ax'],
  ['8e d8', 'mov %ax, %ds          # DS base 0x10000: past the 64 KiB of RAM'],
  ['88 1e 10 00', 'mov %bl, 0x10         # MmioWrite 0x10010 [5a]'],
  ['a0 20 00', 'mov 0x20, %al         # MmioRead 0x10020 (1 byte), answered 77'],
  ['a2 30 00', 'mov %al, 0x30         # MmioWrite 0x10030 [77]'],
  ['31 c0', 'xor %ax, %ax'],
  ['8e d8', 'mov %ax, %ds'],
  ['be 2a 10', 'mov $msg, %si'],
  ['b9 05 00', 'mov $5, %cx'],
  ['f3 6e', 'rep outsb             # IoOut 0x3f8, 5 x 1 byte "hello"'],
  ['f4', 'hlt                   # Hlt (no in-kernel irqchip)'],
  ['68 65 6c 6c 6f', 'msg: .ascii "hello"'],
]);

/**
 * Real mode with the in-kernel irqchip: installs an IVT entry for vector 0x24,
 * programs the master PIC (vectors 0x20-0x27, only IRQ 4 unmasked), says so on
 * port 0x11, waits with `sti; hlt`, and reports the vector its handler saw on port 0x10.
 */
export const REAL_MODE_IRQ = program([
  ['c7 06 90 00 2c 10', 'movw $handler, 0x90   # IVT[0x24].offset'],
  ['c7 06 92 00 00 00', 'movw $0, 0x92         # IVT[0x24].segment'],
  ['b0 11', 'mov $0x11, %al'],
  ['e6 20', 'out %al, $0x20        # PIC ICW1: edge, cascade, ICW4 follows'],
  ['b0 20', 'mov $0x20, %al'],
  ['e6 21', 'out %al, $0x21        # ICW2: vector base 0x20'],
  ['b0 04', 'mov $0x04, %al'],
  ['e6 21', 'out %al, $0x21        # ICW3: slave on IRQ 2'],
  ['b0 01', 'mov $0x01, %al'],
  ['e6 21', 'out %al, $0x21        # ICW4: 8086 mode'],
  ['b0 ef', 'mov $0xef, %al'],
  ['e6 21', 'out %al, $0x21        # OCW1: mask everything but IRQ 4'],
  ['e6 11', 'out %al, $0x11        # IoOut 0x11: ready (an edge before ICW1 would be lost)'],
  ['31 db', 'xor %bx, %bx'],
  ['fb', 'sti'],
  ['f4', 'hlt                   # sleeps in the kernel until the interrupt'],
  ['88 d8', 'mov %bl, %al'],
  ['e6 10', 'out %al, $0x10        # IoOut 0x10 [vector]'],
  ['eb fe', '1: jmp 1b'],
  ['b3 24', 'handler: mov $0x24, %bl'],
  ['b0 20', 'mov $0x20, %al'],
  ['e6 20', 'out %al, $0x20        # EOI to the master PIC'],
  ['cf', 'iret'],
]);

/** Real mode: three `nop`s and `hlt`, for single-stepping. */
export const REAL_MODE_NOPS = program([
  ['90', 'nop'],
  ['90', 'nop'],
  ['90', 'nop'],
  ['f4', 'hlt'],
]);

/** Real mode: `sti` and a loop, for the interrupt window. */
export const REAL_MODE_STI_LOOP = program([
  ['fb', 'sti'],
  ['eb fe', '1: jmp 1b'],
]);

/** 64-bit CPL3: port I/O of 1, 2 and 4 bytes and MMIO of 1, 2, 4 and 8 bytes at TestGuestLayout.MMIO. */
export const USER_IO = program([
  ['66 ba f8 03', 'mov $0x3f8, %dx'],
  ['b0 41', 'mov $0x41, %al'],
  ['ee', 'out %al, (%dx)        # IoOut 0x3f8 [41]'],
  ['ec', 'in (%dx), %al         # IoIn 0x3f8 (1 byte), answered 5a'],
  ['88 c3', 'mov %al, %bl'],
  ['b8 78 56 34 12', 'mov $0x12345678, %eax'],
  ['e7 80', 'out %eax, $0x80       # IoOut 0x80 [78 56 34 12]'],
  ['e5 84', 'in $0x84, %eax        # IoIn 0x84 (4 bytes), answered deadbeef'],
  ['89 c1', 'mov %eax, %ecx'],
  ['be 00 00 20 00', 'mov $0x200000, %esi'],
  ['88 1e', 'mov %bl, (%rsi)       # MmioWrite 0x200000 [5a]'],
  ['89 4e 04', 'mov %ecx, 4(%rsi)     # MmioWrite 0x200004 [ef be ad de]'],
  ['48 8b 46 08', 'mov 8(%rsi), %rax     # MmioRead 0x200008 (8 bytes), answered 1122334455667788'],
  ['48 89 46 10', 'mov %rax, 16(%rsi)    # MmioWrite 0x200010 [88 77 66 55 44 33 22 11]'],
  ['0f b7 46 18', 'movzwl 24(%rsi), %eax # MmioRead 0x200018 (2 bytes), answered abcd'],
  ['66 e7 86', 'out %ax, $0x86        # IoOut 0x86 [cd ab]'],
  ['eb fe', '1: jmp 1b'],
]);

/** 64-bit CPL3: writes that ioeventfds catch in the kernel, and two that do not match and exit. */
export const USER_IOEVENTFD = program([
  ['66 ba 00 05', 'mov $0x500, %dx'],
  ['b0 01', 'mov $1, %al'],
  ['ee', 'out %al, (%dx)        # ioeventfd on port 0x500, any value: no exit'],
  ['66 ba 04 05', 'mov $0x504, %dx'],
  ['b0 07', 'mov $7, %al'],
  ['ee', 'out %al, (%dx)        # ioeventfd on port 0x504 matching 7: no exit'],
  ['b0 08', 'mov $8, %al'],
  ['ee', 'out %al, (%dx)        # 8 does not match: IoOut 0x504 [08]'],
  ['be 00 01 20 00', 'mov $0x200100, %esi'],
  ['c7 06 34 12 00 00', 'movl $0x1234, (%rsi)  # ioeventfd on MMIO 0x200100 matching 0x1234: no exit'],
  ['c7 06 35 12 00 00', 'movl $0x1235, (%rsi)  # no match: MmioWrite 0x200100 [35 12 00 00]'],
  ['e6 81', 'out %al, $0x81        # IoOut 0x81: done'],
  ['eb fe', '1: jmp 1b'],
]);

/** 64-bit CPL3: writes to pages 1, 3 (twice) and 10 of the memory at 1 MiB, reads page 5, then port 0x81. */
export const USER_DIRTY = program([
  ['be 00 00 10 00', 'mov $0x100000, %esi'],
  ['c6 86 00 10 00 00 01', 'movb $1, 0x1000(%rsi)'],
  ['c7 86 10 30 00 00 02 00 00 00', 'movl $2, 0x3010(%rsi)'],
  ['48 c7 86 f8 3f 00 00 03 00 00 00', 'movq $3, 0x3ff8(%rsi)'],
  ['c6 86 00 a0 00 00 04', 'movb $4, 0xa000(%rsi)'],
  ['8a 86 00 50 00 00', 'mov 0x5000(%rsi), %al'],
  ['e6 81', 'out %al, $0x81        # IoOut 0x81: done'],
  ['eb fe', '1: jmp 1b'],
]);

/**
 * 64-bit CPL3, for several vCPUs at once: sets the word at %rdi, spins until
 * another vCPU sets the word at %rsi, then writes 1 to port %dx. It finishes
 * only if the vCPUs really run at the same time.
 */
export const USER_HANDSHAKE = program([
  ['c7 07 01 00 00 00', 'movl $1, (%rdi)'],
  ['f3 90', '1: pause'],
  ['8b 06', 'mov (%rsi), %eax'],
  ['85 c0', 'test %eax, %eax'],
  ['74 f8', 'jz 1b'],
  ['ee', 'out %al, (%dx)        # IoOut %dx [01]'],
  ['eb fe', '2: jmp 2b'],
]);

/** 64-bit CPL3: jumps to TestGuestLayout.MMIO, where no memory backs the instruction fetch. */
export const USER_FETCH_MMIO = program([
  ['b8 00 00 20 00', 'mov $0x200000, %eax'],
  ['ff e0', 'jmp *%rax             # InternalError: KVM cannot fetch (emulate) from MMIO'],
]);

/** 64-bit CPL3: `ud2` with no IDT: #UD, #DF, triple fault. */
export const USER_UD2 = program([['0f 0b', 'ud2                   # Shutdown']]);

export type { Instruction };
