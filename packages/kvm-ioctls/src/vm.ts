/**
 * `VmFd`: one virtual machine. Memory slots, the in-kernel interrupt
 * controllers and PIT, interrupt injection (IRQ lines, MSIs, irqfds, GSI
 * routing), ioeventfds, dirty logging, and the creation of vCPUs and devices.
 *
 * Every method is a VM ioctl, which is safe from any thread while vCPUs run.
 */
import { addressOf, close } from '@tsvmm/vmm-sys-util';
import type { Cap } from './cap.js';
import {
  KVM_CREATE_DEVICE_TEST,
  KVM_IOEVENTFD_FLAG_DATAMATCH,
  KVM_IOEVENTFD_FLAG_DEASSIGN,
  KVM_IOEVENTFD_FLAG_PIO,
  KVM_IRQ_ROUTING_IRQCHIP,
  KVM_IRQ_ROUTING_MSI,
  KVM_IRQCHIP_IOAPIC,
  KVM_IRQCHIP_PIC_MASTER,
  KVM_IRQCHIP_PIC_SLAVE,
  KVM_IRQFD_FLAG_DEASSIGN,
  KVM_IRQFD_FLAG_RESAMPLE,
} from './constants.js';
import { DeviceFd } from './device.js';
import { KvmFd } from './kvm-fd.js';
import {
  type KvmClockData,
  type KvmIoapicState,
  type KvmMsi,
  type KvmPicState,
  type KvmPitState2,
  type KvmUserspaceMemoryRegion,
  kvm_clock_data,
  kvm_create_device,
  kvm_dirty_log,
  kvm_enable_cap,
  kvm_ioapic_state,
  kvm_ioeventfd,
  kvm_irq_level,
  kvm_irq_routing,
  kvm_irq_routing_irqchip,
  kvm_irq_routing_msi,
  kvm_irqchip,
  kvm_irqfd,
  kvm_msi,
  kvm_pic_state,
  kvm_pit_config,
  kvm_pit_state2,
  kvm_userspace_memory_region,
} from './structs/vm.js';
import { assertInt, assertU32, assertU64, type FdLike, fdOf } from './validate.js';
import { enableCapValue, VcpuFd } from './vcpu.js';

/** The state of one in-kernel interrupt controller (KVM_GET_IRQCHIP / KVM_SET_IRQCHIP). */
export type IrqchipState =
  | {
      readonly chip_id: typeof KVM_IRQCHIP_PIC_MASTER | typeof KVM_IRQCHIP_PIC_SLAVE;
      readonly pic: KvmPicState;
    }
  | { readonly chip_id: typeof KVM_IRQCHIP_IOAPIC; readonly ioapic: KvmIoapicState };

/** Where an ioeventfd listens: a port or a guest physical MMIO address. */
export type IoEventAddress = { readonly pio: number } | { readonly mmio: bigint };

/** How an ioeventfd matches writes. */
export interface IoEventOptions {
  /** Signal only for writes of exactly this value (needs `length`). */
  readonly datamatch?: number | bigint;
  /** Access length to match: 1, 2, 4 or 8 bytes, or 0 (the default, without datamatch) for any. */
  readonly length?: 0 | 1 | 2 | 4 | 8;
}

/** One GSI route for {@link VmFd.setGsiRouting}: to an irqchip pin, or to an MSI message. */
export type GsiRoute =
  | { readonly gsi: number; readonly irqchip: { readonly irqchip: number; readonly pin: number } }
  | {
      readonly gsi: number;
      readonly msi: { readonly address_lo: number; readonly address_hi: number; readonly data: number };
      /** `KVM_MSI_VALID_DEVID` with `devid`, for platforms that need it. */
      readonly flags?: number;
      readonly devid?: number;
    };

/** A VM file descriptor. */
export class VmFd extends KvmFd {
  /** Size of each vCPU's mapping (from KVM_GET_VCPU_MMAP_SIZE). */
  readonly vcpuMmapSize: number;

  /** @internal Use `Kvm.createVm`. */
  constructor(fd: number, vcpuMmapSize: number) {
    super(fd);
    this.vcpuMmapSize = vcpuMmapSize;
  }

  /** KVM_CHECK_EXTENSION on the VM (answers for this VM's type). */
  checkExtension(cap: Cap): number {
    assertU32(cap, 'cap');
    return this.ioctlInt('KVM_CHECK_EXTENSION', cap);
  }

  /**
   * KVM_SET_USER_MEMORY_REGION: maps `memory_size` bytes of host memory at
   * `userspace_addr` into the guest at `guest_phys_addr`, as slot `slot`. A
   * size of 0 deletes the slot. Flags: `KVM_MEM_LOG_DIRTY_PAGES`, `KVM_MEM_READONLY`.
   */
  setUserMemoryRegion(region: KvmUserspaceMemoryRegion): void {
    this.ioctlWrite('KVM_SET_USER_MEMORY_REGION', kvm_userspace_memory_region, region);
  }

  /** KVM_SET_TSS_ADDR: three pages of guest physical space KVM may use on Intel hosts (below 4 GiB). */
  setTssAddress(address: number): void {
    assertInt(address, 'address', 0, 0xffff_ffff);
    this.ioctlInt('KVM_SET_TSS_ADDR', address);
  }

  /** KVM_SET_IDENTITY_MAP_ADDR: one page of guest physical space for the real-mode identity map (Intel). */
  setIdentityMapAddress(address: bigint): void {
    assertU64(address, 'address');
    const buf = new BigUint64Array([address]);
    this.ioctlPtr('KVM_SET_IDENTITY_MAP_ADDR', buf);
  }

  /** KVM_CREATE_IRQCHIP: an in-kernel PIC pair, IOAPIC and a local APIC per vCPU (before creating vCPUs). */
  createIrqchip(): void {
    this.ioctlInt('KVM_CREATE_IRQCHIP');
  }

  /** KVM_CREATE_PIT2: an in-kernel 8254 PIT (flags: `KVM_PIT_SPEAKER_DUMMY`). */
  createPit2(flags = 0): void {
    this.ioctlWrite('KVM_CREATE_PIT2', kvm_pit_config, { flags });
  }
  /** KVM_GET_PIT2 */
  getPit2(): KvmPitState2 {
    return this.ioctlRead('KVM_GET_PIT2', kvm_pit_state2);
  }
  /** KVM_SET_PIT2 */
  setPit2(state: KvmPitState2): void {
    this.ioctlWrite('KVM_SET_PIT2', kvm_pit_state2, state);
  }

  /** KVM_GET_IRQCHIP: the state of the master PIC, the slave PIC or the IOAPIC. */
  getIrqchip(chipId: IrqchipState['chip_id']): IrqchipState {
    assertInt(chipId, 'chipId', KVM_IRQCHIP_PIC_MASTER, KVM_IRQCHIP_IOAPIC);
    const buf = kvm_irqchip.encode({ chip_id: chipId, chip: new Uint8Array(512) });
    this.ioctlPtr('KVM_GET_IRQCHIP', buf);
    const chip = buf.subarray(kvm_irqchip.offsetOf('chip'));
    if (chipId === KVM_IRQCHIP_IOAPIC) return { chip_id: chipId, ioapic: kvm_ioapic_state.decode(chip) };
    return { chip_id: chipId, pic: kvm_pic_state.decode(chip) };
  }
  /** KVM_SET_IRQCHIP */
  setIrqchip(state: IrqchipState): void {
    if (typeof state !== 'object' || state === null) throw new TypeError('state must be an IrqchipState');
    const chip = new Uint8Array(512);
    if ('ioapic' in state) {
      if (state.chip_id !== KVM_IRQCHIP_IOAPIC)
        throw new RangeError('an IOAPIC state needs chip_id KVM_IRQCHIP_IOAPIC');
      chip.set(kvm_ioapic_state.encode(state.ioapic));
    } else {
      if (state.chip_id !== KVM_IRQCHIP_PIC_MASTER && state.chip_id !== KVM_IRQCHIP_PIC_SLAVE)
        throw new RangeError('a PIC state needs chip_id KVM_IRQCHIP_PIC_MASTER or KVM_IRQCHIP_PIC_SLAVE');
      chip.set(kvm_pic_state.encode(state.pic));
    }
    this.ioctlWrite('KVM_SET_IRQCHIP', kvm_irqchip, { chip_id: state.chip_id, chip });
  }

  /** KVM_GET_CLOCK: the VM's kvmclock in ns (and the host's realtime and TSC, per `flags`). */
  getClock(): KvmClockData {
    return this.ioctlRead('KVM_GET_CLOCK', kvm_clock_data);
  }
  /** KVM_SET_CLOCK */
  setClock(data: KvmClockData): void {
    this.ioctlWrite('KVM_SET_CLOCK', kvm_clock_data, data);
  }

  /**
   * KVM_IRQ_LINE: sets the level of a GSI of the in-kernel irqchip (raise and
   * lower for an edge). Satisfies vm-device's IRQ-line interface.
   */
  setIrqLine(irq: number, level: boolean): void {
    assertU32(irq, 'irq');
    if (typeof level !== 'boolean') throw new TypeError('level must be a boolean');
    this.ioctlWrite('KVM_IRQ_LINE', kvm_irq_level, { irq, level: level ? 1 : 0 });
  }

  /** KVM_SIGNAL_MSI: injects an MSI. Returns > 0 if delivered, 0 if the guest blocked it. */
  signalMsi(msi: KvmMsi): number {
    return this.ioctlWrite('KVM_SIGNAL_MSI', kvm_msi, msi);
  }

  /** KVM_SET_GSI_ROUTING: replaces the whole GSI routing table. */
  setGsiRouting(routes: readonly GsiRoute[]): void {
    if (!Array.isArray(routes)) throw new TypeError('routes must be an array of GsiRoute');
    const entries = routes.map((route, i) => {
      if (typeof route !== 'object' || route === null) throw new TypeError(`routes[${i}] must be a GsiRoute`);
      assertU32(route.gsi, `routes[${i}].gsi`);
      if ('irqchip' in route) {
        const u = new Uint8Array(32);
        u.set(kvm_irq_routing_irqchip.encode(route.irqchip));
        return { gsi: route.gsi, type: KVM_IRQ_ROUTING_IRQCHIP, flags: 0, u };
      }
      if ('msi' in route) {
        const u = new Uint8Array(32);
        u.set(kvm_irq_routing_msi.encode({ ...route.msi, devid: route.devid ?? 0 }));
        return { gsi: route.gsi, type: KVM_IRQ_ROUTING_MSI, flags: route.flags ?? 0, u };
      }
      throw new TypeError(`routes[${i}] must have an irqchip or an msi member`);
    });
    this.ioctlWrite('KVM_SET_GSI_ROUTING', kvm_irq_routing, { flags: 0, entries });
  }

  /**
   * KVM_IOEVENTFD: signals `fd` when the guest writes to `address`, without an
   * exit to user space. With `datamatch`, only for writes of that value.
   */
  registerIoevent(fd: FdLike, address: IoEventAddress, options: IoEventOptions = {}): void {
    this.ioctlWrite('KVM_IOEVENTFD', kvm_ioeventfd, ioeventfd(fd, address, options, 0));
  }
  /** Removes an ioeventfd registered with the same `fd`, address and options. */
  unregisterIoevent(fd: FdLike, address: IoEventAddress, options: IoEventOptions = {}): void {
    this.ioctlWrite(
      'KVM_IOEVENTFD',
      kvm_ioeventfd,
      ioeventfd(fd, address, options, KVM_IOEVENTFD_FLAG_DEASSIGN),
    );
  }

  /** KVM_IRQFD: writing `fd` raises GSI `gsi` (edge). */
  registerIrqfd(fd: FdLike, gsi: number): void {
    this.#irqfd(fd, gsi, 0, 0);
  }
  /**
   * KVM_IRQFD with KVM_IRQFD_FLAG_RESAMPLE: writing `fd` asserts GSI `gsi`
   * (level); when the guest acknowledges it, KVM deasserts it and signals
   * `resamplefd`, so the device can assert it again if still pending.
   */
  registerIrqfdWithResample(fd: FdLike, resamplefd: FdLike, gsi: number): void {
    this.#irqfd(fd, gsi, KVM_IRQFD_FLAG_RESAMPLE, fdOf(resamplefd, 'resamplefd'));
  }
  /** Removes the irqfd `fd` from GSI `gsi`. */
  unregisterIrqfd(fd: FdLike, gsi: number): void {
    this.#irqfd(fd, gsi, KVM_IRQFD_FLAG_DEASSIGN, 0);
  }

  #irqfd(fd: FdLike, gsi: number, flags: number, resamplefd: number): void {
    const n = fdOf(fd, 'fd');
    assertU32(gsi, 'gsi');
    this.ioctlWrite('KVM_IRQFD', kvm_irqfd, { fd: n, gsi, flags, resamplefd });
  }

  /**
   * KVM_GET_DIRTY_LOG: the pages of slot `slot` written since the last call
   * (the slot needs `KVM_MEM_LOG_DIRTY_PAGES`), and resets the log. Bit `i`
   * of the returned bitmap (byte `i >> 3`, bit `i & 7`) is page `i` of the slot.
   */
  getDirtyLog(slot: number, memorySize: number | bigint): Uint8Array {
    assertU32(slot, 'slot');
    const size = BigInt(memorySize);
    if (size <= 0n) throw new RangeError('memorySize must be positive');
    const pages = (size + 4095n) / 4096n;
    const bitmap = new Uint8Array(Number(((pages + 63n) / 64n) * 8n));
    this.ioctlWrite('KVM_GET_DIRTY_LOG', kvm_dirty_log, { slot, dirty_bitmap: addressOf(bitmap) });
    return bitmap;
  }

  /** KVM_ENABLE_CAP on the VM (e.g. `Cap.SplitIrqchip` with its arguments). */
  enableCap(cap: Cap, args: readonly bigint[] = [], flags = 0): void {
    this.ioctlWrite('KVM_ENABLE_CAP', kvm_enable_cap, enableCapValue(cap, args, flags));
  }

  /** KVM_CREATE_VCPU: vCPU `id` (its APIC id), with its `kvm_run` page mapped. */
  createVcpu(id: number): VcpuFd {
    assertU32(id, 'id');
    const fd = this.ioctlInt('KVM_CREATE_VCPU', id);
    try {
      return new VcpuFd(fd, { id, mmapSize: this.vcpuMmapSize, owned: true });
    } catch (e) {
      close(fd); // the mapping failed: do not leak the vCPU
      throw e;
    }
  }

  /** KVM_CREATE_DEVICE: an in-kernel device of `type` (`KVM_DEV_TYPE_*`). */
  createDevice(type: number, flags = 0): DeviceFd {
    assertU32(type, 'type');
    assertU32(flags, 'flags');
    const buf = kvm_create_device.encode({ type, fd: 0, flags });
    this.ioctlPtr('KVM_CREATE_DEVICE', buf);
    return new DeviceFd(kvm_create_device.decode(buf).fd);
  }

  /** Whether this VM can create a device of `type` (KVM_CREATE_DEVICE with KVM_CREATE_DEVICE_TEST). */
  supportsDevice(type: number): boolean {
    assertU32(type, 'type');
    try {
      this.ioctlWrite('KVM_CREATE_DEVICE', kvm_create_device, { type, fd: 0, flags: KVM_CREATE_DEVICE_TEST });
      return true;
    } catch (e) {
      if ((e as { code?: string }).code === 'ENODEV') return false;
      throw e;
    }
  }
}

function ioeventfd(fd: FdLike, address: IoEventAddress, options: IoEventOptions, flags: number) {
  const n = fdOf(fd, 'fd');
  if (typeof address !== 'object' || address === null)
    throw new TypeError('address must be { pio } or { mmio }');
  let addr: bigint;
  if ('pio' in address) {
    assertInt(address.pio, 'address.pio', 0, 0xffff);
    addr = BigInt(address.pio);
    flags |= KVM_IOEVENTFD_FLAG_PIO;
  } else {
    assertU64(address.mmio, 'address.mmio');
    addr = address.mmio;
  }
  const length = options.length ?? 0;
  if (![0, 1, 2, 4, 8].includes(length))
    throw new RangeError(`length must be 0, 1, 2, 4 or 8, got ${length}`);
  let datamatch = 0n;
  if (options.datamatch !== undefined) {
    if (length === 0) throw new RangeError('a datamatch needs a length of 1, 2, 4 or 8');
    const value = options.datamatch;
    if (typeof value !== 'bigint' && !Number.isSafeInteger(value))
      throw new TypeError(`datamatch must be an integer or a bigint, got ${String(value)}`);
    datamatch = BigInt(value);
    if (datamatch < 0n || datamatch >= 1n << BigInt(8 * length))
      throw new RangeError(`datamatch ${options.datamatch} does not fit in ${length} bytes`);
    flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
  }
  return { datamatch, addr, len: length, fd: n, flags };
}
