/**
 * The register state a vCPU enters the guest kernel with, for the two x86
 * Linux entries:
 *
 * - `long-mode` (64-bit boot protocol, Documentation/arch/x86/boot.rst):
 *   paging on with identity-mapped tables, `__BOOT_CS`/`__BOOT_DS` loaded,
 *   RSI = the zero page, interrupts off.
 * - `pvh` (the PVH boot ABI, xen/include/public/arch-x86/hvm/start_info.h):
 *   32-bit protected mode, paging off, flat CS/DS/ES/SS, a usable TR,
 *   EBX = the hvm_start_info structure.
 */
import type { KvmFpu, KvmRegs, KvmSregs } from '@tsvmm/kvm-ioctls';
import { CODE32, CODE64, DATA, kvmSegment, SELECTOR, TSS } from './gdt.js';

export const X86_CR0_PE = 0x1n;
export const X86_CR0_ET = 0x10n;
export const X86_CR0_NE = 0x20n;
export const X86_CR0_PG = 0x80000000n;
export const X86_CR4_PAE = 0x20n;
export const EFER_LME = 0x100n;
export const EFER_LMA = 0x400n;
/** RFLAGS with only the always-one bit 1 set: interrupts off. */
export const RFLAGS_BOOT = 0x2n;

export type BootEntry =
  | {
      kind: 'long-mode';
      /** The 64-bit entry point. */
      entry: bigint;
      /** Guest address of the zero page (boot_params), passed in RSI. */
      bootParams: bigint;
      /** CR3: the PML4 of identity-mapped tables (see writeIdentityMap). */
      pml4: bigint;
      /** Initial stack pointer. */
      stack: bigint;
    }
  | {
      kind: 'pvh';
      /** XEN_ELFNOTE_PHYS32_ENTRY. */
      entry: bigint;
      /** Guest address of hvm_start_info, passed in EBX. */
      startInfo: bigint;
    };

/** Where the boot GDT lives in guest memory (the VMM writes gdtBytes() there). */
export interface DescriptorTables {
  gdtBase: bigint;
  gdtLimit: number;
  /** An IDT with no entries: any exception before the kernel sets its own triple-faults. */
  idtBase: bigint;
}

const ZERO_REGS: KvmRegs = {
  rax: 0n,
  rbx: 0n,
  rcx: 0n,
  rdx: 0n,
  rsi: 0n,
  rdi: 0n,
  rsp: 0n,
  rbp: 0n,
  r8: 0n,
  r9: 0n,
  r10: 0n,
  r11: 0n,
  r12: 0n,
  r13: 0n,
  r14: 0n,
  r15: 0n,
  rip: 0n,
  rflags: RFLAGS_BOOT,
};

/** The general-purpose registers at the entry. */
export function bootRegs(entry: BootEntry): KvmRegs {
  if (entry.kind === 'long-mode') {
    return { ...ZERO_REGS, rip: entry.entry, rsp: entry.stack, rbp: entry.stack, rsi: entry.bootParams };
  }
  return { ...ZERO_REGS, rip: entry.entry, rbx: entry.startInfo };
}

/**
 * The special registers at the entry, starting from the vCPU's current ones
 * (so APIC base and the interrupt bitmap KVM keeps are preserved).
 */
export function bootSregs(current: KvmSregs, entry: BootEntry, tables: DescriptorTables): KvmSregs {
  const code =
    entry.kind === 'long-mode' ? kvmSegment(SELECTOR.CODE64, CODE64) : kvmSegment(SELECTOR.CODE32, CODE32);
  const data = kvmSegment(SELECTOR.DATA, DATA);
  const sregs: KvmSregs = {
    ...current,
    cs: code,
    ds: data,
    es: data,
    fs: data,
    gs: data,
    ss: data,
    tr: kvmSegment(SELECTOR.TSS, TSS),
    gdt: { base: tables.gdtBase, limit: tables.gdtLimit },
    idt: { base: tables.idtBase, limit: 0 },
    cr2: 0n,
    cr8: 0n,
  };
  if (entry.kind === 'long-mode') {
    sregs.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE | X86_CR0_PG;
    sregs.cr3 = entry.pml4;
    sregs.cr4 = X86_CR4_PAE;
    sregs.efer = EFER_LME | EFER_LMA;
  } else {
    sregs.cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE;
    sregs.cr3 = 0n;
    sregs.cr4 = 0n;
    sregs.efer = 0n;
  }
  return sregs;
}

/** x87 control word after FNINIT with all exceptions masked, and the MXCSR reset value. */
export function bootFpu(current: KvmFpu): KvmFpu {
  return { ...current, fcw: 0x37f, fsw: 0, ftwx: 0, last_opcode: 0, last_ip: 0n, last_dp: 0n, mxcsr: 0x1f80 };
}
