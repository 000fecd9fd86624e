/**
 * The reference VMM's virtio devices: each drive, network interface and the
 * entropy device becomes a virtio-mmio device with a 4 KiB window in the
 * MMIO hole, an IRQ, one ioeventfd per queue on its QueueNotify register
 * (datamatch = the queue index) and an irqfd, so that a request never stops
 * a vCPU in user space. The devices run on one I/O thread; the vCPU threads
 * handle their register accesses through the transports' shared state.
 *
 * Backends are opened first ({@link openVirtioBackends}), so a disk or a TAP
 * device that cannot be opened is a `VmmError` before KVM is touched.
 */
import type { VmFd } from '@tsvmm/kvm-ioctls';
import {
  blockDeviceSpec,
  closeBlockDeviceSpec,
  closeNetDeviceSpec,
  IoThread,
  netDeviceSpec,
  rngDeviceSpec,
  VIRTIO_MMIO_QUEUE_NOTIFY,
  VIRTIO_MMIO_WINDOW_SIZE,
  type VirtioDeviceSpec,
  type VirtioMmioCounters,
  type VirtioMmioShared,
  VirtioMmioTransport,
} from '@tsvmm/virtio-devices';
import { AddressAllocator, IdAllocator } from '@tsvmm/vm-device';
import type { GuestMemoryMmap } from '@tsvmm/vm-memory';
import { EFD_NONBLOCK, EventFd } from '@tsvmm/vmm-sys-util';
import type { VmConfig } from './config.js';
import { VmmError } from './errors.js';
import { VIRTIO_MMIO_END, VIRTIO_MMIO_START } from './layout.js';
import { KEYBOARD_IRQ, SERIAL_IRQ } from './legacy.js';

/** The IRQs virtio devices get: 5..23 (I/O APIC pins; KVM routes GSI n to pin n), minus the RTC's 8. */
export const VIRTIO_IRQ_FIRST = 5;
export const VIRTIO_IRQ_LAST = 23;
const RESERVED_IRQS = [8];

/** One device's backend, opened; the spec the I/O thread builds the device from. */
export interface VirtioBackend {
  readonly kind: 'block' | 'net' | 'rng';
  /** The configuration's id (`disk0`, `rootfs`, `net0`, `rng`). */
  readonly id: string;
  readonly spec: VirtioDeviceSpec;
  /** Closes what the spec holds open; only for a VM whose I/O thread never started. */
  readonly release: () => void;
}

/** Where a device sits, as the kernel command line announces it. */
export interface VirtioPlacement {
  readonly id: string;
  readonly kind: VirtioBackend['kind'];
  /** Base of the 4 KiB register window. */
  readonly address: bigint;
  readonly irq: number;
}

/** What each vCPU thread needs to handle the devices' registers (structured-clonable). */
export interface VirtioDevicesShared {
  readonly devices: readonly { readonly address: bigint; readonly transport: VirtioMmioShared }[];
}

/**
 * Opens every device backend of `config`, root drive first (it becomes
 * `/dev/vda`). Undoes what it opened if one fails.
 * @throws VmmError `DISK` for a disk that cannot be opened; `NET` for a TAP device.
 */
export function openVirtioBackends(config: VmConfig): VirtioBackend[] {
  const out: VirtioBackend[] = [];
  try {
    const drives = [...config.drives].sort((a, b) => Number(b.isRootDevice) - Number(a.isRootDevice));
    for (const d of drives) {
      let spec: ReturnType<typeof blockDeviceSpec>;
      try {
        spec = blockDeviceSpec({
          path: d.path,
          readOnly: d.readOnly,
          ...(d.serial === undefined ? {} : { serial: d.serial }),
        });
      } catch (e) {
        throw new VmmError('DISK', `disk ${d.id}: cannot open ${d.path}: ${(e as Error).message}`, {
          cause: e,
        });
      }
      out.push({ kind: 'block', id: d.id, spec, release: () => closeBlockDeviceSpec(spec) });
    }
    for (const n of config.net) {
      let spec: ReturnType<typeof netDeviceSpec>;
      try {
        spec = netDeviceSpec({
          tap: n.tap,
          ...(n.mac === undefined ? {} : { mac: n.mac }),
          ...(n.create === true ? { create: true } : {}),
        });
      } catch (e) {
        throw new VmmError('NET', `network interface ${n.id}: ${(e as Error).message}`, {
          cause: e,
        });
      }
      out.push({ kind: 'net', id: n.id, spec, release: () => closeNetDeviceSpec(spec) });
    }
    if (config.rng) out.push({ kind: 'rng', id: 'rng', spec: rngDeviceSpec(), release: () => undefined });
  } catch (e) {
    releaseVirtioBackends(out);
    throw e;
  }
  return out;
}

/** Closes what the backends hold open (for a VM that is not built after all). */
export function releaseVirtioBackends(backends: readonly VirtioBackend[]): void {
  for (const b of backends) {
    try {
      b.release();
    } catch {
      // best effort: the first error is the one reported
    }
  }
}

/** The kernel command line arguments for a root drive: `root=/dev/vda` and `ro` or `rw`, as Firecracker does. */
export function rootDeviceArgs(config: VmConfig): string[] {
  const root = config.drives.find((d) => d.isRootDevice);
  if (root === undefined || /(^|\s)root=/.test(config.cmdline)) return [];
  return ['root=/dev/vda', root.readOnly ? 'ro' : 'rw'];
}

/** The VM's virtio devices: placement, KVM wiring and the I/O thread. */
export class VirtioDevices {
  readonly #placements: VirtioPlacement[];
  /** The I/O thread; none without devices. */
  readonly io: IoThread | undefined;
  readonly #transports: { id: string; transport: VirtioMmioTransport }[];
  readonly #fds: EventFd[];
  #backends: readonly VirtioBackend[];
  #started = false;

  private constructor(
    backends: readonly VirtioBackend[],
    io: IoThread | undefined,
    placements: VirtioPlacement[],
    transports: { id: string; transport: VirtioMmioTransport }[],
    fds: EventFd[],
  ) {
    this.#backends = backends;
    this.io = io;
    this.#placements = placements;
    this.#transports = transports;
    this.#fds = fds;
  }

  /**
   * Places each backend's device and wires it into KVM: a window and an IRQ
   * from the allocators, an irqfd, and an ioeventfd per queue. From then on
   * the devices own the backends ({@link close} releases them); if this
   * throws, they are still the caller's.
   * @throws VmmError `DEVICE` when the devices do not fit or KVM refuses an eventfd.
   */
  static create(
    vm: VmFd,
    memory: GuestMemoryMmap,
    backends: readonly VirtioBackend[],
    log: (message: string) => void,
  ): VirtioDevices {
    if (backends.length === 0) return new VirtioDevices(backends, undefined, [], [], []);
    const fds: EventFd[] = [];
    const eventFd = () => {
      const fd = new EventFd(0, EFD_NONBLOCK);
      fds.push(fd);
      return fd;
    };
    const io = new IoThread({ memory, log });
    const devices = new VirtioDevices(backends, io, [], [], fds);
    try {
      const windows = new AddressAllocator(VIRTIO_MMIO_START, VIRTIO_MMIO_END - VIRTIO_MMIO_START);
      const irqs = new IdAllocator(VIRTIO_IRQ_FIRST, VIRTIO_IRQ_LAST);
      for (const irq of [...RESERVED_IRQS, SERIAL_IRQ, KEYBOARD_IRQ])
        if (irq >= VIRTIO_IRQ_FIRST && irq <= VIRTIO_IRQ_LAST) irqs.allocate({ exact: irq });
      const size = BigInt(VIRTIO_MMIO_WINDOW_SIZE);
      for (const backend of backends) {
        const what = `virtio device ${backend.id}`;
        let address: bigint;
        let irq: number;
        try {
          address = windows.allocate(size, size).base;
          irq = irqs.allocate();
        } catch (e) {
          throw new VmmError(
            'DEVICE',
            `${what}: no room (at most ${VIRTIO_IRQ_LAST - VIRTIO_IRQ_FIRST + 1 - RESERVED_IRQS.length} virtio devices): ${(e as Error).message}`,
            { cause: e },
          );
        }
        const irqFd = eventFd();
        const notify = backend.spec.info.queueMaxSizes.map(() => eventFd());
        try {
          vm.registerIrqfd(irqFd, irq);
          notify.forEach((fd, q) => {
            vm.registerIoevent(
              fd,
              { mmio: address + BigInt(VIRTIO_MMIO_QUEUE_NOTIFY) },
              { datamatch: q, length: 4 },
            );
          });
        } catch (e) {
          throw new VmmError(
            'DEVICE',
            `${what}: KVM refused its irqfd or ioeventfds: ${(e as Error).message}`,
            {
              cause: e,
            },
          );
        }
        const transport = VirtioMmioTransport.create(backend.spec.info, {
          notifyFds: notify.map((fd) => fd.fd),
          irqFd: irqFd.fd,
          controlFd: io.controlFd,
        });
        io.addDevice(backend.spec, transport.shared);
        devices.#placements.push({ id: backend.id, kind: backend.kind, address, irq });
        devices.#transports.push({ id: backend.id, transport });
      }
    } catch (e) {
      devices.#backends = []; // still the caller's: it releases them
      devices.close();
      throw e;
    }
    return devices;
  }

  /** Where each device sits, in command line order. */
  get placements(): readonly VirtioPlacement[] {
    return this.#placements;
  }

  /** What the vCPU threads attach. */
  get shared(): VirtioDevicesShared {
    return {
      devices: this.#transports.map(({ transport }, i) => ({
        address: this.#placements[i]!.address,
        transport: transport.shared,
      })),
    };
  }

  /** Each device's transport counters, by id. */
  counters(): Record<string, VirtioMmioCounters> {
    return Object.fromEntries(this.#transports.map(({ id, transport }) => [id, transport.counters()]));
  }

  /**
   * Starts the I/O thread; from then on it owns the backends (it closes them when it stops).
   * @throws VmmError `DEVICE` if a device cannot be built on it.
   */
  async start(): Promise<void> {
    if (this.io === undefined) return;
    this.#started = true;
    try {
      await this.io.start();
    } catch (e) {
      throw new VmmError('DEVICE', `the virtio I/O thread did not start: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }

  /** Calls `onFailure` if the started I/O thread fails (a clean stop is not a failure). */
  onFailure(onFailure: (error: Error) => void): void {
    if (this.io === undefined || !this.#started) return;
    this.io.done.catch((e: unknown) => onFailure(e as Error));
  }

  /** Stops the I/O thread (devices reset and closed on it); a failure is reported, not thrown. */
  async stop(): Promise<Error | undefined> {
    if (this.io === undefined || !this.#started) return undefined;
    try {
      await this.io.stop();
      return undefined;
    } catch (e) {
      return e as Error;
    }
  }

  /** Releases eventfds, the control eventfd and, if the I/O thread never ran, the backends. */
  close(): void {
    if (!this.#started) releaseVirtioBackends(this.#backends);
    this.#backends = [];
    this.io?.close();
    for (const fd of this.#fds.splice(0)) fd.close();
  }
}
