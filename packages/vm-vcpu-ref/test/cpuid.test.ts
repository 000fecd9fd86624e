import type { KvmCpuidEntry2 } from '@tsvmm/kvm-ioctls';
import { describe, expect, it } from 'vitest';
import { cpuVendor, findCpuid, normalizeCpuid } from '../src/cpuid.js';

const leaf = (fn: number, index: number, regs: Partial<KvmCpuidEntry2> = {}): KvmCpuidEntry2 => ({
  function: fn,
  index,
  flags: 0,
  eax: 0,
  ebx: 0,
  ecx: 0,
  edx: 0,
  ...regs,
});
// "GenuineIntel" in EBX, EDX, ECX
const intel = leaf(0, 0, { eax: 0x1f, ebx: 0x756e6547, edx: 0x49656e69, ecx: 0x6c65746e });
const amd = leaf(0, 0, { eax: 0xd, ebx: 0x68747541, edx: 0x69746e65, ecx: 0x444d4163 });

describe('CPUID normalization', () => {
  const host = [
    intel,
    leaf(1, 0, { ebx: 0x0a0b0800, edx: 1 << 28 }),
    leaf(4, 0, { eax: 0x121, flags: 1 }),
    leaf(4, 3, { eax: 0x163, flags: 1 }),
    leaf(0xb, 0, { flags: 1 }),
    leaf(0xb, 1, { flags: 1 }),
    leaf(0xb, 2, { flags: 1 }),
    leaf(0xa, 0, { eax: 0x7300805 }),
  ];

  it('knows the vendor', () => {
    expect(cpuVendor([intel])).toBe('intel');
    expect(cpuVendor([amd])).toBe('amd');
    expect(cpuVendor([])).toBe('other');
  });

  it('gives each vCPU its APIC id and the package its vCPU count', () => {
    for (const id of [0, 1, 3]) {
      const out = normalizeCpuid(host, { id, count: 4 });
      const l1 = findCpuid(out, 1)!;
      expect(l1.ebx >>> 24).toBe(id);
      expect((l1.ebx >> 16) & 0xff).toBe(4);
      expect(l1.ebx & 0xffff).toBe(0x0800); // CLFLUSH size kept
      expect(l1.ecx >>> 31).toBe(1); // hypervisor present
      expect((l1.edx >> 28) & 1).toBe(1); // HTT: more than one logical CPU
      expect(findCpuid(out, 0xb, 0)!.edx).toBe(id);
      expect(findCpuid(out, 0xb, 1)).toMatchObject({ eax: 2, ebx: 4, ecx: 0x201, edx: id });
      expect(findCpuid(out, 0xb, 2)).toMatchObject({ eax: 0, ebx: 0, ecx: 2 });
      expect(findCpuid(out, 4, 0)!.eax >>> 26).toBe(3);
      expect((findCpuid(out, 4, 3)!.eax >> 14) & 0xfff).toBe(3); // L3 shared by all
      expect(findCpuid(out, 0xa)!.eax).toBe(0); // no PMU
    }
  });

  it('clears HTT for one vCPU and leaves the input alone', () => {
    const out = normalizeCpuid(host, { id: 0, count: 1 });
    expect((findCpuid(out, 1)!.edx >> 28) & 1).toBe(0);
    expect(host[1]!.ebx).toBe(0x0a0b0800);
  });

  it('sets the AMD core count', () => {
    const out = normalizeCpuid([amd, leaf(0x80000008, 0, { ecx: 0xffff })], { id: 1, count: 2 });
    expect(findCpuid(out, 0x80000008)!.ecx & 0xff).toBe(1);
    expect((findCpuid(out, 0x80000008)!.ecx >> 12) & 0xf).toBe(1);
  });

  it('refuses impossible topologies', () => {
    expect(() => normalizeCpuid(host, { id: 2, count: 2 })).toThrow(RangeError);
    expect(() => normalizeCpuid(host, { id: 0, count: 0 })).toThrow(RangeError);
    expect(() => normalizeCpuid(host, { id: 0, count: 256 })).toThrow(RangeError);
  });
});
