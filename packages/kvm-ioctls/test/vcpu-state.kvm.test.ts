import { describe, expect, it } from 'vitest';
import {
  Cap,
  KVM_MP_STATE_HALTED,
  KVM_MP_STATE_RUNNABLE,
  Kvm,
  type VcpuFd,
  type VmFd,
} from '../src/index.js';
import { createTestVm, enterLongModeUser, TestGuestLayout as L } from '../src/testing/index.js';
import { kvmAvailable } from '../src/testing/kvm-available.js';

function withVcpu<T>(options: { irqchip?: boolean }, fn: (vcpu: VcpuFd, vm: VmFd, kvm: Kvm) => T): T {
  using kvm = Kvm.open();
  using vm = kvm.createVm();
  if (options.irqchip) vm.createIrqchip();
  using vcpu = vm.createVcpu(0);
  return fn(vcpu, vm, kvm);
}

const IA32_SYSENTER_CS = 0x174;
const MSR_LSTAR = 0xc000_0082;

describe.skipIf(!kvmAvailable)('VcpuFd state', () => {
  it('gets and sets the general registers', () => {
    withVcpu({}, (vcpu) => {
      const regs = vcpu.getRegs();
      expect(regs.rip).toBe(0xfff0n); // the reset vector
      const want = {
        ...regs,
        rax: 0x1122_3344_5566_7788n,
        r15: 0xffff_ffff_ffff_fffen,
        rip: 0x1000n,
        rflags: 0x2n,
      };
      vcpu.setRegs(want);
      expect(vcpu.getRegs()).toEqual(want);
      expect(() => vcpu.setRegs({ ...want, rax: -1n })).toThrow(RangeError);
      expect(() => vcpu.setRegs({ ...want, rbx: 1 as unknown as bigint })).toThrow(TypeError);
    });
  });

  it('gets and sets the special registers', () => {
    withVcpu({}, (vcpu) => {
      const sregs = vcpu.getSregs();
      expect(sregs.cs).toMatchObject({ selector: 0xf000, base: 0xffff_0000n });
      const want = { ...sregs, cs: { ...sregs.cs, base: 0x2_0000n, selector: 0x2000 }, cr2: 0xdead_0000n };
      vcpu.setSregs(want);
      expect(vcpu.getSregs()).toEqual(want);
    });
  });

  it('gets and sets the FPU and SSE state', () => {
    withVcpu({}, (vcpu) => {
      const fpu = vcpu.getFpu();
      expect(fpu.fcw).toBe(0x37f); // FNINIT state
      expect(fpu.xmm).toHaveLength(16);
      const xmm = [...fpu.xmm];
      xmm[3] = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
      vcpu.setFpu({ ...fpu, xmm, fcw: 0x27f, mxcsr: 0x1f80 });
      const after = vcpu.getFpu();
      expect([...after.xmm[3]!]).toEqual([...xmm[3]]);
      expect(after.fcw).toBe(0x27f);
      expect(() => vcpu.setFpu({ ...fpu, xmm: xmm.slice(1) })).toThrow(RangeError);
    });
  });

  it('sets the CPUID table and reads it back', () => {
    withVcpu({}, (vcpu, _vm, kvm) => {
      const supported = kvm.getSupportedCpuid();
      vcpu.setCpuid2(supported);
      const set = vcpu.getCpuid2();
      expect(set.length).toBe(supported.length);
      expect(set.find((e) => e.function === 0)).toEqual(supported.find((e) => e.function === 0));
      expect(() => vcpu.getCpuid2(1)).toThrow(
        expect.objectContaining({ code: 'E2BIG', ioctl: 'KVM_GET_CPUID2' }),
      );
    });
  });

  it('gets and sets the local APIC', () => {
    withVcpu({ irqchip: true }, (vcpu) => {
      const lapic = vcpu.getLapic();
      expect(lapic.regs[0x23]).toBe(0); // APIC ID register (bits 24-31 at offset 0x20): vCPU 0
      const regs = lapic.regs.slice();
      regs[0x80] = 0x30; // TPR
      vcpu.setLapic({ regs });
      expect(vcpu.getLapic().regs[0x80]).toBe(0x30);
    });
    withVcpu({}, (vcpu) =>
      expect(() => vcpu.getLapic()).toThrow(
        expect.objectContaining({ code: 'EINVAL', ioctl: 'KVM_GET_LAPIC' }),
      ),
    );
  });

  it('gets and sets MSRs, and stops at the first one it cannot read', () => {
    withVcpu({}, (vcpu) => {
      const written = vcpu.setMsrs([
        { index: IA32_SYSENTER_CS, data: 0x10n },
        { index: MSR_LSTAR, data: 0xffff_ffff_8100_0000n },
      ]);
      expect(written).toBe(2);
      expect(vcpu.getMsrs([IA32_SYSENTER_CS, MSR_LSTAR])).toEqual([
        { index: IA32_SYSENTER_CS, data: 0x10n },
        { index: MSR_LSTAR, data: 0xffff_ffff_8100_0000n },
      ]);
      expect(vcpu.getMsrs([IA32_SYSENTER_CS, 0x1234_5678, MSR_LSTAR])).toEqual([
        { index: IA32_SYSENTER_CS, data: 0x10n },
      ]);
      expect(() => vcpu.getMsrs([-1])).toThrow(RangeError);
    });
  });

  it('gets and sets the MP state (other than runnable only with an in-kernel LAPIC)', () => {
    withVcpu({ irqchip: true }, (vcpu) => {
      expect(vcpu.getMpState()).toEqual({ mp_state: KVM_MP_STATE_RUNNABLE });
      vcpu.setMpState({ mp_state: KVM_MP_STATE_HALTED });
      expect(vcpu.getMpState()).toEqual({ mp_state: KVM_MP_STATE_HALTED });
    });
    withVcpu({}, (vcpu) =>
      expect(() => vcpu.setMpState({ mp_state: KVM_MP_STATE_HALTED })).toThrow(
        expect.objectContaining({ code: 'EINVAL', ioctl: 'KVM_SET_MP_STATE' }),
      ),
    );
  });

  it('gets and sets the XSAVE area and the XCRs', () => {
    withVcpu({}, (vcpu, _vm, kvm) => {
      vcpu.setCpuid2(kvm.getSupportedCpuid()); // XSAVE state follows the guest's CPUID
      const xsave = vcpu.getXsave();
      expect(xsave.region.length).toBe(4096);
      expect(xsave.region[0]! | (xsave.region[1]! << 8)).toBe(0x37f); // FXSAVE legacy area: FCW
      vcpu.setXsave(xsave);
      const xcrs = vcpu.getXcrs();
      expect(xcrs.xcrs[0]).toMatchObject({ xcr: 0 });
      expect(xcrs.xcrs[0]!.value & 1n).toBe(1n); // x87 is always on
      vcpu.setXcrs(xcrs);
      expect(() => vcpu.setXcrs({ ...xcrs, xcrs: [{ xcr: 0, value: 0n }] })).toThrow(
        expect.objectContaining({ code: 'EINVAL', ioctl: 'KVM_SET_XCRS' }),
      );
      expect(() => vcpu.setXcrs({ ...xcrs, xcrs: Array(17).fill({ xcr: 0, value: 1n }) })).toThrow(
        RangeError,
      );
    });
  });

  it('gets and sets the debug registers', () => {
    withVcpu({}, (vcpu) => {
      const regs = vcpu.getDebugRegs();
      const want = { ...regs, db: [0x1000n, 0x2000n, 0n, 0n], dr7: 0x401n };
      vcpu.setDebugRegs(want);
      expect(vcpu.getDebugRegs()).toMatchObject({ db: [0x1000n, 0x2000n, 0n, 0n], dr7: 0x401n });
    });
  });

  it('queues NMIs and interrupts, visible in the vCPU events', () => {
    withVcpu({}, (vcpu) => {
      const events = vcpu.getVcpuEvents();
      expect(events.nmi.pending).toBe(0);
      vcpu.nmi();
      expect(vcpu.getVcpuEvents().nmi.pending).toBe(1);
      vcpu.interrupt(0x41);
      expect(vcpu.getVcpuEvents().interrupt).toMatchObject({ injected: 1, nr: 0x41 });
      vcpu.setVcpuEvents(events);
      expect(vcpu.getVcpuEvents().interrupt.injected).toBe(0);
      expect(() => vcpu.interrupt(256)).toThrow(RangeError);
    });
    withVcpu({ irqchip: true }, (vcpu) =>
      expect(() => vcpu.interrupt(0x41)).toThrow(
        expect.objectContaining({ code: 'ENXIO', ioctl: 'KVM_INTERRUPT' }),
      ),
    );
  });

  it('reports the TSC frequency and accepts it back', () => {
    withVcpu({}, (vcpu) => {
      const khz = vcpu.getTscKhz();
      expect(khz).toBeGreaterThan(100_000);
      vcpu.setTscKhz(khz);
      expect(() => vcpu.setTscKhz(0)).toThrow(RangeError);
    });
  });

  it('translates guest-virtual addresses through the guest page tables', () => {
    const t = createTestVm();
    const vcpu = t.vm.createVcpu(0);
    enterLongModeUser(vcpu, t.ram, { entry: BigInt(L.CODE), stack: BigInt(L.STACK_TOP) });
    // (KVM_TRANSLATE never fills in `usermode`.)
    expect(vcpu.translate(0x1_0123n)).toMatchObject({ physical_address: 0x1_0123n, valid: 1, writeable: 1 });
    expect(vcpu.translate(0x40_0000n).valid).toBe(0); // past the 4 MiB the tables map
    vcpu.close();
    t.close();
  });

  it('refuses capabilities it cannot enable on a vCPU', () => {
    withVcpu({}, (vcpu) =>
      expect(() => vcpu.enableCap(Cap.Hlt)).toThrow(
        expect.objectContaining({ code: 'EINVAL', ioctl: 'KVM_ENABLE_CAP' }),
      ),
    );
  });

  it('refuses use after close (EBADF), naming the ioctl', () => {
    using kvm = Kvm.open();
    using vm = kvm.createVm();
    const vcpu = vm.createVcpu(0);
    vcpu.close();
    expect(vcpu.kvmRun.buffer.byteLength).toBe(0); // unmapped and detached
    expect(() => vcpu.run()).toThrow(expect.objectContaining({ code: 'EBADF', ioctl: 'KVM_RUN' }));
    expect(() => vcpu.getRegs()).toThrow(expect.objectContaining({ code: 'EBADF', ioctl: 'KVM_GET_REGS' }));
    vcpu.close();
  });
});
