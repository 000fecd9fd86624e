/**
 * Putting it together on a real vCPU: what every vCPU needs (CPUID, MSRs,
 * FPU, LAPIC pins) and what only the boot processor needs (the entry's
 * registers). Application processors are left in the state KVM creates them
 * in (waiting for INIT/SIPI from the guest through the in-kernel LAPIC).
 */
import type { KvmCpuidEntry2, VcpuFd } from '@tsvmm/kvm-ioctls';
import { type BootEntry, bootFpu, bootRegs, bootSregs, type DescriptorTables } from './boot-cpu.js';
import { type CpuTopology, normalizeCpuid } from './cpuid.js';
import { configureLints } from './lapic.js';
import { bootMsrs } from './msr.js';

/** What the host's KVM offers, read once per VM (Kvm.getSupportedCpuid, Kvm.getMsrIndexList). */
export interface HostCpuFeatures {
  supportedCpuid: readonly KvmCpuidEntry2[];
  msrIndexList: readonly number[];
}

/**
 * CPUID, boot MSRs, FPU and LAPIC LINT0/LINT1 for one vCPU. Needs the
 * in-kernel irqchip (for the LAPIC). @throws the vCPU's KvmError if KVM
 * refuses a value, or a RangeError if KVM did not take every boot MSR.
 */
export function configureVcpu(vcpu: VcpuFd, host: HostCpuFeatures, topology: CpuTopology): void {
  vcpu.setCpuid2(normalizeCpuid(host.supportedCpuid, topology));
  const msrs = bootMsrs(host.msrIndexList);
  const written = vcpu.setMsrs(msrs);
  if (written !== msrs.length) {
    const failed = msrs[written]!;
    throw new RangeError(
      `KVM_SET_MSRS stopped at MSR 0x${failed.index.toString(16)} (${written} of ${msrs.length} written)`,
    );
  }
  vcpu.setFpu(bootFpu(vcpu.getFpu()));
  vcpu.setLapic(configureLints(vcpu.getLapic()));
}

/** Registers for the boot processor's entry into the kernel. */
export function setupBootRegisters(vcpu: VcpuFd, entry: BootEntry, tables: DescriptorTables): void {
  vcpu.setSregs(bootSregs(vcpu.getSregs(), entry, tables));
  vcpu.setRegs(bootRegs(entry));
}
