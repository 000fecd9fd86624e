/**
 * Test guests for KVM tests and benchmarks: a VM with RAM at guest physical
 * address 0, and vCPUs put straight into real mode or into 64-bit user mode
 * (CPL3, paging on) without any guest boot code.
 *
 * Guest user mode is the mode that runs natively everywhere, including on
 * software KVMs that interpret guest kernel mode, so every exit a CPL3 test
 * guest takes measures the VMM rather than an instruction emulator.
 */
import { addressOf, MAP_ANONYMOUS, MAP_SHARED, mmap, munmap } from '@tsvmm/vmm-sys-util';
import { Kvm } from '../kvm.js';
import type { KvmSegment } from '../structs/vcpu.js';
import type { VcpuFd } from '../vcpu.js';
import type { VmFd } from '../vm.js';

/** Where the test guests keep things, as guest physical (= virtual, identity-mapped) addresses. */
export const TestGuestLayout = {
  /** Page-map level 4, the PDPT, the page directory, and the page table of the first 2 MiB. */
  PML4: 0x1000,
  PDPT: 0x2000,
  PD: 0x3000,
  PT: 0xa000,
  /** Global descriptor table. */
  GDT: 0x4000,
  /** The 64-bit TSS and its I/O permission bitmap (up to 0x7069). */
  TSS: 0x5000,
  /** Top of the stack the CPU switches to on an interrupt from user mode (TSS.RSP0). */
  KERNEL_STACK_TOP: 0x9000,
  /** Where test code goes by convention. */
  CODE: 0x10000,
  /** Top of the user stack by convention. */
  STACK_TOP: 0x20000,
  /** Free memory for test data. */
  DATA: 0x30000,
  /** Default RAM size (slot 0 at guest physical 0). */
  RAM_SIZE: 0x10_0000,
  /** Guest addresses from here to 4 MiB are mapped by the page tables but not backed by RAM: MMIO. */
  MMIO: 0x20_0000,
} as const;

/** GDT selectors of the long-mode test guests (user selectors with RPL 3). */
export const TestGuestSelectors = {
  KERNEL_CODE: 0x08,
  KERNEL_DATA: 0x10,
  USER_DATA: 0x1b,
  USER_CODE: 0x23,
  TSS: 0x28,
};

const CR0_PE = 1n;
const CR0_MP = 1n << 1n;
const CR0_ET = 1n << 4n;
const CR0_NE = 1n << 5n;
const CR0_WP = 1n << 16n;
const CR0_PG = 1n << 31n;
const CR4_PAE = 1n << 5n;
const CR4_OSFXSR = 1n << 9n;
const CR4_OSXMMEXCPT = 1n << 10n;
const EFER_LME = 1n << 8n;
const EFER_LMA = 1n << 10n;
const PTE_P = 1n;
const PTE_RW = 2n;
const PTE_US = 4n;
const PTE_PS = 0x80n;
/** RFLAGS of a test guest: only the always-one bit 1 (interrupts off, IOPL 0). */
export const USER_RFLAGS = 0x2n;
/** The TSS limit: the 0x68-byte 64-bit TSS plus an I/O bitmap for all 65536 ports. */
const TSS_LIMIT = 0x68 + 0x2000;

/** A VM with one memory slot of RAM at guest physical address 0. Close it to free everything. */
export interface TestVm extends Disposable {
  readonly kvm: Kvm;
  readonly vm: VmFd;
  /** The guest's RAM, as host memory. */
  readonly ram: Uint8Array;
  /** Host address of the RAM (the slot's `userspace_addr`). */
  readonly ramAddress: bigint;
  close(): void;
}

/** Creates a VM with `ramSize` bytes of RAM at guest physical 0 (slot 0), and optionally the in-kernel irqchip. */
export function createTestVm(options: { ramSize?: number; irqchip?: boolean } = {}): TestVm {
  const ramSize = options.ramSize ?? TestGuestLayout.RAM_SIZE;
  const kvm = Kvm.open();
  const vm = kvm.createVm();
  if (options.irqchip) vm.createIrqchip();
  const buffer = mmap(ramSize, { flags: MAP_SHARED | MAP_ANONYMOUS });
  const ramAddress = addressOf(buffer);
  vm.setUserMemoryRegion({
    slot: 0,
    flags: 0,
    guest_phys_addr: 0n,
    memory_size: BigInt(ramSize),
    userspace_addr: ramAddress,
  });
  const close = () => {
    vm.close();
    kvm.close();
    if (buffer.byteLength > 0) munmap(buffer);
  };
  return { kvm, vm, ram: new Uint8Array(buffer), ramAddress, close, [Symbol.dispose]: close };
}

/** Puts a fresh vCPU in real mode at `0:ip` (CS base 0), with interrupts off. */
export function enterRealMode(vcpu: VcpuFd, ip: number): void {
  const sregs = vcpu.getSregs();
  sregs.cs = { ...sregs.cs, base: 0n, selector: 0 };
  vcpu.setSregs(sregs);
  vcpu.setRegs({ ...vcpu.getRegs(), rip: BigInt(ip), rflags: 0x2n });
}

/**
 * Writes page tables (a user-accessible identity map of the first 4 MiB: 4 KiB
 * pages up to 2 MiB, then one 2 MiB page), a GDT and a TSS into `ram`, and puts `vcpu` in 64-bit mode at CPL3:
 * EFER.LME|LMA, CR0.PG|PE, CR4.PAE, a 64-bit code segment with DPL 3, data
 * segments with DPL 3, RPL-3 selectors. User-mode `in`/`out` are allowed by
 * the TSS's I/O permission bitmap (not by IOPL, which some software KVMs
 * cannot give a user-mode guest), so they exit to the VMM.
 * `regs` are extra register values (e.g. arguments in rdi, rsi).
 */
export function enterLongModeUser(
  vcpu: VcpuFd,
  ram: Uint8Array,
  options: {
    entry: bigint;
    stack: bigint;
    regs?: Partial<Record<'rax' | 'rbx' | 'rcx' | 'rdx' | 'rsi' | 'rdi', bigint>>;
  },
): void {
  const L = TestGuestLayout;
  const view = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
  const q = (at: number, value: bigint) => view.setBigUint64(at, value, true);
  // Page tables: PML4[0] -> PDPT, PDPT[0] -> PD, PD[0] -> PT (4 KiB pages over the first 2 MiB, so
  // that the guest's dirty bits, and a shadow-paging KVM's dirty log, are per 4 KiB page), and
  // PD[1] -> one 2 MiB page at 2 MiB (the MMIO window).
  q(L.PML4, BigInt(L.PDPT) | PTE_P | PTE_RW | PTE_US);
  q(L.PDPT, BigInt(L.PD) | PTE_P | PTE_RW | PTE_US);
  q(L.PD, BigInt(L.PT) | PTE_P | PTE_RW | PTE_US);
  q(L.PD + 8, 0x20_0000n | PTE_P | PTE_RW | PTE_US | PTE_PS);
  for (let page = 0; page < 512; page++) q(L.PT + 8 * page, BigInt(page * 0x1000) | PTE_P | PTE_RW | PTE_US);
  // GDT: null, kernel code/data, user data, user code (64-bit), TSS (16 bytes).
  q(L.GDT + 0x00, 0n);
  q(L.GDT + 0x08, 0x00209a0000000000n); // P, DPL 0, code exec/read, L
  q(L.GDT + 0x10, 0x00cf92000000ffffn); // P, DPL 0, data read/write, 4 GiB
  q(L.GDT + 0x18, 0x00cff2000000ffffn); // P, DPL 3, data read/write, 4 GiB
  q(L.GDT + 0x20, 0x0020fa0000000000n); // P, DPL 3, code exec/read, L
  const tssBase = BigInt(L.TSS);
  const tssLimit = BigInt(TSS_LIMIT);
  q(
    L.GDT + 0x28,
    tssLimit | ((tssBase & 0xffffffn) << 16n) | (0x89n << 40n) | (((tssBase >> 24n) & 0xffn) << 56n),
  );
  q(L.GDT + 0x30, tssBase >> 32n);
  // TSS: RSP0 (offset 4) for interrupts taken in user mode, and an I/O permission bitmap right after
  // the 0x68-byte TSS that allows every port (all zero bits, then the terminating 0xff byte).
  ram.fill(0, L.TSS, L.TSS + TSS_LIMIT);
  q(L.TSS + 4, BigInt(L.KERNEL_STACK_TOP));
  view.setUint16(L.TSS + 0x66, 0x68, true);
  ram[L.TSS + TSS_LIMIT] = 0xff;

  const S = TestGuestSelectors;
  const flat = { base: 0n, limit: 0xffff_ffff, g: 1, avl: 0, unusable: 0, present: 1, s: 1 };
  const code: KvmSegment = { ...flat, selector: S.USER_CODE, type: 0xb, dpl: 3, db: 0, l: 1 };
  const data: KvmSegment = { ...flat, selector: S.USER_DATA, type: 0x3, dpl: 3, db: 1, l: 0 };
  const sregs = vcpu.getSregs();
  vcpu.setSregs({
    ...sregs,
    cs: code,
    ds: data,
    es: data,
    fs: data,
    gs: data,
    ss: data,
    tr: {
      base: tssBase,
      limit: Number(tssLimit),
      selector: S.TSS,
      type: 0xb,
      present: 1,
      dpl: 0,
      db: 0,
      s: 0,
      l: 0,
      g: 0,
      avl: 0,
      unusable: 0,
    },
    gdt: { base: BigInt(L.GDT), limit: 0x37 },
    idt: { base: 0n, limit: 0 },
    cr0: CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG,
    cr3: BigInt(L.PML4),
    cr4: CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT,
    efer: EFER_LME | EFER_LMA,
  });
  vcpu.setRegs({
    ...vcpu.getRegs(),
    rax: 0n,
    rbx: 0n,
    rcx: 0n,
    rdx: 0n,
    rsi: 0n,
    rdi: 0n,
    ...options.regs,
    rip: options.entry,
    rsp: options.stack,
    rflags: USER_RFLAGS,
  });
}
