import { describe, expect, it } from 'vitest';
import { Cap, KVM_API_VERSION, Kvm, KvmError, kvm_run } from '../src/index.js';
import { kvmAvailable } from '../src/testing/kvm-available.js';

describe.skipIf(!kvmAvailable)('Kvm (the /dev/kvm system fd)', () => {
  it('speaks API 12 and reports the vCPU mapping size', () => {
    using kvm = Kvm.open();
    expect(kvm.getApiVersion()).toBe(KVM_API_VERSION);
    const size = kvm.getVcpuMmapSize();
    expect(size).toBeGreaterThanOrEqual(kvm_run.size);
    expect(size % 4096).toBe(0);
  });

  it('answers capability checks', () => {
    using kvm = Kvm.open();
    for (const cap of [Cap.Irqchip, Cap.UserMemory, Cap.Ioeventfd, Cap.Irqfd, Cap.ImmediateExit])
      expect(kvm.hasExtension(cap)).toBe(true);
    expect(kvm.checkExtension(Cap.NrMemslots)).toBe(kvm.getNrMemslots());
    expect(kvm.checkExtension(999_999 as Cap)).toBe(0);
    expect(() => kvm.checkExtension(-1 as Cap)).toThrow(RangeError);
  });

  it('reports vCPU and memory-slot limits', () => {
    using kvm = Kvm.open();
    expect(kvm.getNrVcpus()).toBeGreaterThanOrEqual(1);
    expect(kvm.getMaxVcpus()).toBeGreaterThanOrEqual(kvm.getNrVcpus());
    expect(kvm.getMaxVcpuId()).toBeGreaterThanOrEqual(kvm.getMaxVcpus());
    expect(kvm.getNrMemslots()).toBeGreaterThanOrEqual(32);
  });

  it('lists the supported and emulated CPUID leaves', () => {
    using kvm = Kvm.open();
    const supported = kvm.getSupportedCpuid();
    const leaf0 = supported.find((e) => e.function === 0)!;
    // CPUID.0 names the vendor in EBX, EDX, ECX.
    const vendor = Buffer.alloc(12);
    vendor.writeUInt32LE(leaf0.ebx, 0);
    vendor.writeUInt32LE(leaf0.edx, 4);
    vendor.writeUInt32LE(leaf0.ecx, 8);
    expect(['GenuineIntel', 'AuthenticAMD', 'HygonGenuine']).toContain(vendor.toString('latin1'));
    expect(supported.some((e) => e.function === 1)).toBe(true);
    expect(kvm.getEmulatedCpuid().length).toBeGreaterThan(0);
    // A table that does not fit is refused by the kernel, not truncated.
    expect(() => kvm.getSupportedCpuid(1)).toThrow(
      expect.objectContaining({ code: 'E2BIG', ioctl: 'KVM_GET_SUPPORTED_CPUID' }),
    );
    expect(() => kvm.getSupportedCpuid(0)).toThrow(RangeError);
  });

  it('lists the MSRs KVM saves, and the feature MSRs with their values', () => {
    using kvm = Kvm.open();
    const msrs = kvm.getMsrIndexList();
    expect(msrs).toContain(0x174); // IA32_SYSENTER_CS
    expect(msrs).toContain(0xc0000082); // LSTAR
    const features = kvm.getMsrFeatureIndexList();
    expect(features.length).toBeGreaterThan(0);
    const values = kvm.getMsrs(features);
    expect(values.map((e) => e.index)).toEqual(features.slice(0, values.length));
    expect(values.length).toBeGreaterThan(0);
  });

  it('fails with a KvmError that names the syscall', () => {
    expect(() => Kvm.open('/nonexistent/kvm')).toThrow(
      expect.objectContaining({ code: 'ENOENT', syscall: 'open' }),
    );
    let err: unknown;
    try {
      Kvm.open('/dev/null');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KvmError);
    expect(err).toMatchObject({ code: 'ENOTTY', errno: 25, syscall: 'ioctl', ioctl: 'KVM_GET_API_VERSION' });
  });

  it('refuses use after close (EBADF)', () => {
    const kvm = Kvm.open();
    kvm.close();
    kvm.close(); // twice is fine
    expect(kvm.closed).toBe(true);
    expect(() => kvm.getApiVersion()).toThrow(
      expect.objectContaining({ code: 'EBADF', syscall: 'ioctl', ioctl: 'KVM_GET_API_VERSION' }),
    );
    expect(() => kvm.fd).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });
});
