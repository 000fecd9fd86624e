// Puts vCPU 0 at a 64-bit entry point the way the Linux boot protocol asks.
import type { Kvm, VcpuFd } from '@tsvmm/kvm-ioctls';
import type { GuestMemory } from '@tsvmm/vm-memory';
import { BOOT_GDT, configureVcpu, gdtBytes, setupBootRegisters, writeIdentityMap } from '@tsvmm/vm-vcpu-ref';

export function enterLongMode(
  kvm: Kvm,
  vcpu: VcpuFd,
  mem: GuestMemory,
  entry: bigint,
  bootParams: bigint,
): void {
  const host = { supportedCpuid: kvm.getSupportedCpuid(), msrIndexList: kvm.getMsrIndexList() };
  configureVcpu(vcpu, host, { id: 0, count: 1 }); // CPUID, MSRs, FPU, LAPIC LINT0/LINT1
  mem.writeSlice(0x500n, gdtBytes()); // __BOOT_CS = 0x10, __BOOT_DS = 0x18
  const pml4 = writeIdentityMap(mem, { base: 0x9000n }); // first 4 GiB, 2 MiB pages
  setupBootRegisters(
    vcpu,
    { kind: 'long-mode', entry, bootParams, pml4, stack: 0x8ff0n },
    { gdtBase: 0x500n, gdtLimit: BOOT_GDT.length * 8 - 1, idtBase: 0x520n },
  );
}
