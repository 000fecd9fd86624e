import {
  addressOf,
  EFD_NONBLOCK,
  EventFd,
  MAP_ANONYMOUS,
  MAP_SHARED,
  mmap,
  munmap,
} from '@tsvmm/vmm-sys-util';
import { describe, expect, it } from 'vitest';
import {
  Cap,
  KVM_CLOCK_TSC_STABLE,
  KVM_DEV_TYPE_VFIO,
  KVM_DEV_VFIO_GROUP,
  KVM_DEV_VFIO_GROUP_ADD,
  KVM_IRQCHIP_IOAPIC,
  KVM_IRQCHIP_PIC_MASTER,
  KVM_IRQCHIP_PIC_SLAVE,
  KVM_MEM_LOG_DIRTY_PAGES,
  KVM_PIT_SPEAKER_DUMMY,
  Kvm,
  type VcpuExit,
  type VmFd,
} from '../src/index.js';
import { createTestVm, enterLongModeUser, TestGuestLayout as L } from '../src/testing/index.js';
import { kvmAvailable } from '../src/testing/kvm-available.js';
import { USER_DIRTY, USER_IOEVENTFD } from './guests.js';

function withVm<T>(fn: (vm: VmFd, kvm: Kvm) => T): T {
  using kvm = Kvm.open();
  using vm = kvm.createVm();
  return fn(vm, kvm);
}

const snap = (exit: VcpuExit) =>
  Object.fromEntries(Object.entries(exit).map(([k, v]) => [k, v instanceof Uint8Array ? [...v] : v]));

const setBits = (bitmap: Uint8Array) =>
  [...bitmap.keys()].flatMap((i) =>
    [0, 1, 2, 3, 4, 5, 6, 7].filter((b) => (bitmap[i]! >> b) & 1).map((b) => i * 8 + b),
  );

describe.skipIf(!kvmAvailable)('VmFd', () => {
  it('adds, replaces and deletes memory slots, and refuses bad ones', () => {
    withVm((vm, kvm) => {
      const buf = mmap(0x4000, { flags: MAP_SHARED | MAP_ANONYMOUS });
      const userspace_addr = addressOf(buf);
      const region = { slot: 0, flags: 0, guest_phys_addr: 0x10_0000n, memory_size: 0x4000n, userspace_addr };
      vm.setUserMemoryRegion(region);
      // Another slot over the same guest range: EEXIST.
      expect(() => vm.setUserMemoryRegion({ ...region, slot: 1 })).toThrow(
        expect.objectContaining({ code: 'EEXIST', ioctl: 'KVM_SET_USER_MEMORY_REGION' }),
      );
      // A slot number past the limit, and a guest address that is not page-aligned: EINVAL.
      expect(() => vm.setUserMemoryRegion({ ...region, slot: kvm.getNrMemslots() + 1 })).toThrow(
        expect.objectContaining({ code: 'EINVAL' }),
      );
      expect(() => vm.setUserMemoryRegion({ ...region, slot: 2, guest_phys_addr: 0x20_0800n })).toThrow(
        expect.objectContaining({ code: 'EINVAL' }),
      );
      vm.setUserMemoryRegion({ ...region, memory_size: 0n }); // deletes slot 0
      vm.setUserMemoryRegion({ ...region, slot: 1 }); // so the range is free again
      expect(() => vm.setUserMemoryRegion({ ...region, slot: -1 })).toThrow(RangeError);
      expect(() => vm.setUserMemoryRegion({ ...region, guest_phys_addr: 1 as unknown as bigint })).toThrow(
        TypeError,
      );
      munmap(buf);
    });
  });

  it('sets the TSS and identity-map addresses', () => {
    withVm((vm) => {
      vm.setTssAddress(0xfffb_d000);
      vm.setIdentityMapAddress(0xfffb_c000n);
      expect(() => vm.setTssAddress(2 ** 32)).toThrow(RangeError);
    });
  });

  it('creates the in-kernel irqchip once, and reads and writes the PICs and the IOAPIC', () => {
    withVm((vm) => {
      vm.createIrqchip();
      expect(() => vm.createIrqchip()).toThrow(
        expect.objectContaining({ code: 'EEXIST', ioctl: 'KVM_CREATE_IRQCHIP' }),
      );
      const master = vm.getIrqchip(KVM_IRQCHIP_PIC_MASTER);
      if (!('pic' in master)) throw new Error('expected a PIC state');
      vm.setIrqchip({ chip_id: KVM_IRQCHIP_PIC_MASTER, pic: { ...master.pic, imr: 0xa5, irq_base: 0x20 } });
      expect(vm.getIrqchip(KVM_IRQCHIP_PIC_MASTER)).toMatchObject({ pic: { imr: 0xa5, irq_base: 0x20 } });
      expect(vm.getIrqchip(KVM_IRQCHIP_PIC_SLAVE)).toHaveProperty('pic');

      const ioapic = vm.getIrqchip(KVM_IRQCHIP_IOAPIC);
      if (!('ioapic' in ioapic)) throw new Error('expected an IOAPIC state');
      expect(ioapic.ioapic.base_address).toBe(0xfec0_0000n);
      const redirtbl = [...ioapic.ioapic.redirtbl];
      redirtbl[3] = 0x0100_0000_0000_0031n; // vector 0x31, unmasked, destination 1
      vm.setIrqchip({ chip_id: KVM_IRQCHIP_IOAPIC, ioapic: { ...ioapic.ioapic, redirtbl } });
      const after = vm.getIrqchip(KVM_IRQCHIP_IOAPIC);
      expect('ioapic' in after && after.ioapic.redirtbl[3]).toBe(0x0100_0000_0000_0031n);

      expect(() => vm.getIrqchip(3 as 2)).toThrow(RangeError);
      expect(() => vm.setIrqchip({ chip_id: KVM_IRQCHIP_IOAPIC, pic: master.pic } as never)).toThrow(
        RangeError,
      );
    });
  });

  it('refuses irqchip state without an irqchip', () => {
    withVm((vm) => {
      expect(() => vm.getIrqchip(KVM_IRQCHIP_PIC_MASTER)).toThrow(expect.objectContaining({ code: 'ENXIO' }));
      expect(() => vm.setIrqLine(4, true)).toThrow(
        expect.objectContaining({ code: 'ENXIO', ioctl: 'KVM_IRQ_LINE' }),
      );
    });
  });

  it('creates the PIT and reads and writes its state', () => {
    withVm((vm) => {
      vm.createIrqchip();
      vm.createPit2(KVM_PIT_SPEAKER_DUMMY);
      const state = vm.getPit2();
      expect(state.channels).toHaveLength(3);
      const channels = state.channels.map((c, i) => (i === 2 ? { ...c, gate: 1, mode: 3 } : c));
      vm.setPit2({ ...state, channels });
      expect(vm.getPit2().channels[2]).toMatchObject({ gate: 1, mode: 3 });
      expect(() => vm.createPit2()).toThrow(
        expect.objectContaining({ code: 'EEXIST', ioctl: 'KVM_CREATE_PIT2' }),
      );
    });
  });

  it('reads and sets the kvmclock', () => {
    withVm((vm) => {
      const clock = vm.getClock();
      expect(clock.clock).toBeGreaterThanOrEqual(0n);
      vm.setClock({ ...clock, clock: 5_000_000_000n, flags: 0 });
      const after = vm.getClock();
      expect(after.clock).toBeGreaterThanOrEqual(5_000_000_000n);
      expect(after.clock).toBeLessThan(6_000_000_000n);
      expect(after.flags & ~(KVM_CLOCK_TSC_STABLE | 4 | 8)).toBe(0);
    });
  });

  it('raises IRQ lines, signals MSIs and sets GSI routes', () => {
    withVm((vm) => {
      vm.createIrqchip();
      vm.createVcpu(0).close();
      vm.setIrqLine(4, true);
      vm.setIrqLine(4, false);
      expect(() => vm.setIrqLine(4, 1 as unknown as boolean)).toThrow(TypeError);
      const delivered = vm.signalMsi({
        address_lo: 0xfee0_0000,
        address_hi: 0,
        data: 0x31,
        flags: 0,
        devid: 0,
      });
      expect(delivered).toBeGreaterThanOrEqual(0);
      vm.setGsiRouting([
        { gsi: 4, irqchip: { irqchip: KVM_IRQCHIP_IOAPIC, pin: 4 } },
        { gsi: 24, msi: { address_lo: 0xfee0_0000, address_hi: 0, data: 0x41 } },
      ]);
      expect(() => vm.setGsiRouting([{ gsi: 4, irqchip: { irqchip: 7, pin: 4 } }])).toThrow(
        expect.objectContaining({ code: 'EINVAL', ioctl: 'KVM_SET_GSI_ROUTING' }),
      );
      expect(() => vm.setGsiRouting([{ gsi: 1 } as never])).toThrow(TypeError);
    });
  });

  it('registers and unregisters irqfds, with and without resampling', () => {
    withVm((vm) => {
      vm.createIrqchip();
      using fd = new EventFd();
      using resample = new EventFd();
      vm.registerIrqfd(fd, 4);
      expect(() => vm.registerIrqfd(fd, 4)).toThrow(
        expect.objectContaining({ code: 'EBUSY', ioctl: 'KVM_IRQFD' }),
      );
      vm.unregisterIrqfd(fd, 4);
      vm.registerIrqfdWithResample(fd, resample, 5);
      vm.unregisterIrqfd(fd.fd, 5);
      expect(() => vm.registerIrqfd(-1, 4)).toThrow(RangeError);
    });
  });

  it('enables a capability, and refuses one it cannot enable', () => {
    withVm((vm) => {
      expect(vm.checkExtension(Cap.SplitIrqchip)).toBe(1);
      vm.enableCap(Cap.SplitIrqchip, [24n]);
      expect(() => vm.createIrqchip()).toThrow(expect.objectContaining({ code: 'EEXIST' }));
      expect(() => vm.enableCap(Cap.Hlt)).toThrow(
        expect.objectContaining({ code: 'EINVAL', ioctl: 'KVM_ENABLE_CAP' }),
      );
      expect(() => vm.enableCap(Cap.SplitIrqchip, [1n, 2n, 3n, 4n, 5n])).toThrow(RangeError);
    });
  });

  it('creates vCPUs, and refuses a second vCPU with the same id (EEXIST)', () => {
    withVm((vm) => {
      using vcpu = vm.createVcpu(0);
      expect(vcpu.id).toBe(0);
      expect(vcpu.kvmRun.buffer.byteLength).toBe(vm.vcpuMmapSize);
      expect(() => vm.createVcpu(0)).toThrow(
        expect.objectContaining({ code: 'EEXIST', errno: 17, ioctl: 'KVM_CREATE_VCPU' }),
      );
      vm.createVcpu(1).close();
    });
  });

  it('creates a device and answers its attributes', () => {
    withVm((vm) => {
      expect(vm.supportsDevice(KVM_DEV_TYPE_VFIO)).toBe(true);
      expect(vm.supportsDevice(1)).toBe(false); // KVM_DEV_TYPE_FSL_MPIC_20: PowerPC only
      using dev = vm.createDevice(KVM_DEV_TYPE_VFIO);
      expect(dev.hasDeviceAttr({ group: KVM_DEV_VFIO_GROUP, attr: BigInt(KVM_DEV_VFIO_GROUP_ADD) })).toBe(
        true,
      );
      expect(dev.hasDeviceAttr({ group: 0x7777, attr: 0n })).toBe(false);
      // Adding a VFIO group needs a VFIO group fd: -1 is refused by the kernel, not by us.
      const groupFd = new Int32Array([-1]);
      expect(() =>
        dev.setDeviceAttr({ group: KVM_DEV_VFIO_GROUP, attr: BigInt(KVM_DEV_VFIO_GROUP_ADD), data: groupFd }),
      ).toThrow(expect.objectContaining({ code: 'EBADF', ioctl: 'KVM_SET_DEVICE_ATTR' }));
      // The VFIO device has no readable attributes.
      expect(() => dev.getDeviceAttr({ group: KVM_DEV_VFIO_GROUP, attr: 1n, data: groupFd })).toThrow(
        expect.objectContaining({ ioctl: 'KVM_GET_DEVICE_ATTR' }),
      );
      expect(() => vm.createDevice(0x7777)).toThrow(
        expect.objectContaining({ code: 'ENODEV', ioctl: 'KVM_CREATE_DEVICE' }),
      );
      expect(() => dev.setDeviceAttr({ group: 1, attr: 1 as unknown as bigint })).toThrow(TypeError);
    });
  });

  it('refuses use after close (EBADF), naming the ioctl', () => {
    using kvm = Kvm.open();
    const vm = kvm.createVm();
    vm.close();
    expect(() => vm.createVcpu(0)).toThrow(
      expect.objectContaining({ code: 'EBADF', errno: 9, syscall: 'ioctl', ioctl: 'KVM_CREATE_VCPU' }),
    );
  });
});

describe.skipIf(!kvmAvailable)('ioeventfds and dirty logging with a guest', () => {
  it('signals ioeventfds on guest writes without an exit to user space, with and without datamatch', () => {
    const t = createTestVm();
    t.ram.set(USER_IOEVENTFD, L.CODE);
    using any = new EventFd(0, EFD_NONBLOCK);
    using seven = new EventFd(0, EFD_NONBLOCK);
    using mmio = new EventFd(0, EFD_NONBLOCK);
    t.vm.registerIoevent(any, { pio: 0x500 });
    t.vm.registerIoevent(seven, { pio: 0x504 }, { datamatch: 7, length: 1 });
    t.vm.registerIoevent(mmio, { mmio: 0x20_0100n }, { datamatch: 0x1234n, length: 4 });
    expect(() => t.vm.registerIoevent(seven, { pio: 0x504 }, { datamatch: 7, length: 1 })).toThrow(
      expect.objectContaining({ code: 'EEXIST', ioctl: 'KVM_IOEVENTFD' }),
    );
    const vcpu = t.vm.createVcpu(0);
    enterLongModeUser(vcpu, t.ram, { entry: BigInt(L.CODE), stack: BigInt(L.STACK_TOP) });

    // The writes to 0x500 and of 7 to 0x504 were taken by the kernel: the first exit is the 8.
    expect(snap(vcpu.run())).toEqual({ kind: 'IoOut', port: 0x504, size: 1, count: 1, data: [8] });
    expect([any.read(), seven.read(), mmio.read()]).toEqual([1n, 1n, 0n]);
    expect(snap(vcpu.run())).toEqual({ kind: 'MmioWrite', address: 0x20_0100n, data: [0x35, 0x12, 0, 0] });
    expect(mmio.read()).toBe(1n);
    expect(snap(vcpu.run())).toMatchObject({ kind: 'IoOut', port: 0x81 });

    t.vm.unregisterIoevent(any, { pio: 0x500 });
    t.vm.unregisterIoevent(seven, { pio: 0x504 }, { datamatch: 7, length: 1 });
    t.vm.unregisterIoevent(mmio, { mmio: 0x20_0100n }, { datamatch: 0x1234n, length: 4 });
    expect(() => t.vm.unregisterIoevent(any, { pio: 0x500 })).toThrow(
      expect.objectContaining({ code: 'ENOENT' }),
    );
    expect(() => t.vm.registerIoevent(any, { pio: 0x500 }, { datamatch: 1 })).toThrow(RangeError);
    expect(() => t.vm.registerIoevent(any, { pio: 0x500 }, { datamatch: 256, length: 1 })).toThrow(
      RangeError,
    );
    expect(() => t.vm.registerIoevent(any, { pio: 0x1_0000 })).toThrow(RangeError);
    vcpu.close();
    t.close();
  });

  it('logs exactly the pages the guest wrote, and resets the log when read', () => {
    const t = createTestVm(); // RAM: slot 0, 1 MiB at 0
    t.ram.set(USER_DIRTY, L.CODE);
    const logged = mmap(0x1_0000, { flags: MAP_SHARED | MAP_ANONYMOUS });
    t.vm.setUserMemoryRegion({
      slot: 1,
      flags: KVM_MEM_LOG_DIRTY_PAGES,
      guest_phys_addr: 0x10_0000n,
      memory_size: 0x1_0000n,
      userspace_addr: addressOf(logged),
    });
    const vcpu = t.vm.createVcpu(0);
    enterLongModeUser(vcpu, t.ram, { entry: BigInt(L.CODE), stack: BigInt(L.STACK_TOP) });
    expect(setBits(t.vm.getDirtyLog(1, 0x1_0000))).toEqual([]);
    expect(snap(vcpu.run())).toMatchObject({ kind: 'IoOut', port: 0x81 });
    const bitmap = t.vm.getDirtyLog(1, 0x1_0000n);
    expect(bitmap.length).toBe(8); // 16 pages, rounded up to one u64
    expect(setBits(bitmap)).toEqual([1, 3, 10]);
    expect(new Uint8Array(logged)[0x1000]).toBe(1);
    expect(setBits(t.vm.getDirtyLog(1, 0x1_0000))).toEqual([]);
    expect(() => t.vm.getDirtyLog(0, L.RAM_SIZE)).toThrow(
      expect.objectContaining({ code: 'ENOENT', ioctl: 'KVM_GET_DIRTY_LOG' }),
    );
    expect(() => t.vm.getDirtyLog(1, 0)).toThrow(RangeError);
    vcpu.close();
    t.close();
    munmap(logged);
  });
});
