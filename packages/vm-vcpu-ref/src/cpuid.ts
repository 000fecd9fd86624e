/**
 * CPUID for a vCPU: KVM's supported list, normalized so that every vCPU
 * reports its own APIC id and a consistent topology (one thread per core,
 * `count` cores in one package), and the guest knows it runs on a hypervisor.
 */
import type { KvmCpuidEntry2 } from '@tsvmm/kvm-ioctls';

/** Where a vCPU sits in the machine. */
export interface CpuTopology {
  /** This vCPU's index, which is also its APIC id. */
  id: number;
  /** How many vCPUs the VM has. */
  count: number;
}

export type CpuVendor = 'intel' | 'amd' | 'other';

const KVM_CPUID_FLAG_SIGNIFICANT_INDEX = 1;
const ECX_HYPERVISOR = 1 << 31;
const EDX_HTT = 1 << 28;

function ascii(...regs: number[]): string {
  const bytes = new Uint8Array(regs.length * 4);
  const view = new DataView(bytes.buffer);
  regs.forEach((r, i) => {
    view.setUint32(i * 4, r >>> 0, true);
  });
  return new TextDecoder().decode(bytes);
}

/** The vendor in leaf 0 (EBX, EDX, ECX spell it). */
export function cpuVendor(entries: readonly KvmCpuidEntry2[]): CpuVendor {
  const leaf0 = entries.find((e) => e.function === 0);
  if (leaf0 === undefined) return 'other';
  const name = ascii(leaf0.ebx, leaf0.edx, leaf0.ecx);
  if (name === 'GenuineIntel') return 'intel';
  if (name === 'AuthenticAMD' || name === 'HygonGenuine') return 'amd';
  return 'other';
}

/** ceil(log2(n)) for n ≥ 1: the APIC-id bits a level of `n` units needs. */
function bitsFor(n: number): number {
  return n <= 1 ? 0 : 32 - Math.clz32(n - 1);
}

/**
 * Returns a normalized copy of `supported` for the vCPU `topology.id`.
 * @throws RangeError for an id outside `0 ≤ id < count ≤ 255`.
 */
export function normalizeCpuid(
  supported: readonly KvmCpuidEntry2[],
  topology: CpuTopology,
): KvmCpuidEntry2[] {
  const { id, count } = topology;
  if (!Number.isInteger(count) || count < 1 || count > 255)
    throw new RangeError(`vCPU count must be 1..255, got ${count}`);
  if (!Number.isInteger(id) || id < 0 || id >= count)
    throw new RangeError(`vCPU id must be 0..${count - 1}, got ${id}`);
  const vendor = cpuVendor(supported);
  const coreBits = bitsFor(count);
  const out: KvmCpuidEntry2[] = [];
  for (const original of supported) {
    const e = { ...original };
    switch (e.function) {
      case 0x1:
        // EBX: [31:24] initial APIC id, [23:16] logical processors per package, [15:8] CLFLUSH size.
        e.ebx = ((id << 24) | ((count & 0xff) << 16) | (e.ebx & 0xffff)) >>> 0;
        e.ecx = (e.ecx | ECX_HYPERVISOR) >>> 0;
        e.edx = (count > 1 ? e.edx | EDX_HTT : e.edx & ~EDX_HTT) >>> 0;
        break;
      case 0x4:
        // Deterministic cache parameters (Intel): [31:26] cores per package - 1; [25:14] threads sharing - 1.
        if (vendor === 'intel') {
          const level = (e.eax >> 5) & 0x7;
          const sharing = level >= 3 ? count - 1 : 0;
          e.eax = ((e.eax & 0x3fff) | ((sharing & 0xfff) << 14) | (((count - 1) & 0x3f) << 26)) >>> 0;
        }
        break;
      case 0x6:
        // Thermal and power management: nothing a VMM emulates.
        e.eax = 0;
        e.ecx &= 1; // keep only the APERF/MPERF hint bit if KVM offers it
        break;
      case 0xa:
        // Architectural performance monitoring: not offered.
        e.eax = 0;
        e.ebx = 0;
        e.ecx = 0;
        e.edx = 0;
        break;
      case 0xb:
      case 0x1f:
        // Extended topology: level 0 = SMT (1 thread per core), level 1 = core (count cores).
        e.edx = id;
        if (e.index === 0) {
          e.eax = 0;
          e.ebx = 1;
          e.ecx = (1 << 8) | 0;
        } else if (e.index === 1) {
          e.eax = coreBits;
          e.ebx = count;
          e.ecx = (2 << 8) | 1;
        } else {
          e.eax = 0;
          e.ebx = 0;
          e.ecx = e.index & 0xff;
        }
        e.flags |= KVM_CPUID_FLAG_SIGNIFICANT_INDEX;
        break;
      case 0x80000008:
        // AMD: ECX[7:0] = cores - 1, ECX[15:12] = APIC id size.
        if (vendor === 'amd') e.ecx = ((e.ecx & ~0xf0ff) | (count - 1) | (coreBits << 12)) >>> 0;
        break;
      default:
        break;
    }
    out.push(e);
  }
  return out;
}

/** The entry for (`fn`, `index`) in a CPUID list, if present. */
export function findCpuid(
  entries: readonly KvmCpuidEntry2[],
  fn: number,
  index = 0,
): KvmCpuidEntry2 | undefined {
  return (
    entries.find((e) => e.function === fn && e.index === index) ??
    entries.find((e) => e.function === fn && (e.flags & KVM_CPUID_FLAG_SIGNIFICANT_INDEX) === 0)
  );
}
