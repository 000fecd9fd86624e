/**
 * The MSR values a vCPU boots with: the syscall/sysenter MSRs cleared, the TSC
 * at 0, fast strings enabled and the MTRRs enabled with write-back as the
 * default memory type (without it a Linux guest maps all RAM uncached).
 */
import type { KvmMsrEntry } from '@tsvmm/kvm-ioctls';

export const MSR_IA32_TSC = 0x10;
export const MSR_IA32_APICBASE = 0x1b;
export const MSR_IA32_SYSENTER_CS = 0x174;
export const MSR_IA32_SYSENTER_ESP = 0x175;
export const MSR_IA32_SYSENTER_EIP = 0x176;
export const MSR_IA32_MISC_ENABLE = 0x1a0;
export const MSR_MTRR_DEF_TYPE = 0x2ff;
export const MSR_STAR = 0xc0000081;
export const MSR_LSTAR = 0xc0000082;
export const MSR_CSTAR = 0xc0000083;
export const MSR_SYSCALL_MASK = 0xc0000084;
export const MSR_KERNEL_GS_BASE = 0xc0000102;

const MISC_ENABLE_FAST_STRING = 1n;
const MTRR_ENABLE = 1n << 11n;
const MTRR_MEM_TYPE_WB = 6n;

/** The boot MSRs, in the order KVM_SET_MSRS applies them. */
export const BOOT_MSRS: readonly KvmMsrEntry[] = [
  { index: MSR_IA32_SYSENTER_CS, data: 0n },
  { index: MSR_IA32_SYSENTER_ESP, data: 0n },
  { index: MSR_IA32_SYSENTER_EIP, data: 0n },
  { index: MSR_STAR, data: 0n },
  { index: MSR_CSTAR, data: 0n },
  { index: MSR_KERNEL_GS_BASE, data: 0n },
  { index: MSR_SYSCALL_MASK, data: 0n },
  { index: MSR_LSTAR, data: 0n },
  { index: MSR_IA32_TSC, data: 0n },
  { index: MSR_IA32_MISC_ENABLE, data: MISC_ENABLE_FAST_STRING },
  { index: MSR_MTRR_DEF_TYPE, data: MTRR_ENABLE | MTRR_MEM_TYPE_WB },
];

/**
 * The boot MSRs this KVM can save and restore (`supported` is KVM_GET_MSR_INDEX_LIST),
 * so that KVM_SET_MSRS never stops half-way on an MSR the host lacks.
 */
export function bootMsrs(supported: readonly number[]): KvmMsrEntry[] {
  const known = new Set(supported);
  return BOOT_MSRS.filter((m) => known.has(m.index)).map((m) => ({ ...m }));
}
