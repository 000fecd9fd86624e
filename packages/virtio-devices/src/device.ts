/**
 * The seam between a virtio transport and a virtio device, written from the
 * device's side (as rust-vmm's `VirtioDevice`).
 *
 * A device lives on the VMM's one I/O thread. The transport (virtio-mmio
 * here) owns the registers, feature negotiation and the status state
 * machine; when the driver sets DRIVER_OK it hands the device its queues,
 * guest memory, an interrupt and the I/O thread's event loop
 * ({@link VirtioDevice.activate}); queue notifications (ioeventfds) then
 * arrive as {@link VirtioDevice.processQueue}, and a driver reset as
 * {@link VirtioDevice.reset}.
 *
 * A device never throws for what the guest does: malformed chains
 * (`VirtioQueueError`, with `headIndex`) are answered with an error status
 * where the protocol has one, or returned with length 0, and counted. An
 * exception out of a device method means the device itself broke (a host
 * failure it cannot report to the driver); the transport then sets
 * NEEDS_RESET and signals a configuration change, as virtio 1.2 §2.1.2 says.
 */
import type { VirtQueue } from '@tsvmm/virtio-queue';
import type { GuestMemory } from '@tsvmm/vm-memory';

/** Interrupts a device raises; the transport sets the InterruptStatus bit and injects. */
export interface VirtioInterrupt {
  /** The device put buffers into the used ring of queue `queueIndex` (InterruptStatus bit 0). */
  signalUsedQueue(queueIndex: number): void;
  /** The device changed its configuration space (InterruptStatus bit 1). */
  signalConfigChange(): void;
}

/** Called by the I/O thread's event loop with the `EPOLL*` bits that were ready. */
export type VirtioEventHandler = (events: number) => void;

/**
 * The I/O thread's event loop as a device sees it: extra descriptors
 * (backend fds such as a TAP device) to wait on. Descriptors a device added
 * are removed for it when it is reset.
 */
export interface VirtioEventLoop {
  /** Waits for `events` (`EPOLLIN`, `EPOLLOUT`, `EPOLLET`…) on `fd` and calls `handler`. */
  add(fd: number, events: number, handler: VirtioEventHandler): void;
  /** Changes the events waited for on an added `fd`. */
  modify(fd: number, events: number): void;
  /** Stops waiting on `fd`. */
  remove(fd: number): void;
}

/** The device's configuration space, as the driver reads it through the transport. */
export interface VirtioConfigSpace {
  /** Its length in bytes (fixed). */
  readonly length: number;
  /** Copies `length` bytes from `offset` (what the driver currently reads). */
  read(offset: number, length: number): Uint8Array;
  /**
   * Changes bytes the driver reads and increments ConfigGeneration, so that
   * a driver reading across the change retries. Call
   * {@link VirtioInterrupt.signalConfigChange} afterwards to tell the driver.
   * @throws RangeError if the bytes do not fit in the space.
   */
  write(offset: number, data: Uint8Array): void;
}

/** Everything a device gets when the driver sets DRIVER_OK. */
export interface VirtioActivation {
  /** Guest memory, as mapped on the I/O thread. */
  readonly memory: GuestMemory;
  /**
   * One queue per entry of {@link VirtioDeviceInfo.queueMaxSizes}, configured
   * as the driver wrote it (size, areas, EVENT_IDX). A queue the driver did
   * not set ready is not ready (`queue.ready === false`): the device must not
   * use it (its operations throw `QUEUE_NOT_READY`).
   */
  readonly queues: readonly VirtQueue[];
  /** The features the driver accepted (a subset of {@link VirtioDeviceInfo.availFeatures}). */
  readonly ackedFeatures: bigint;
  /** Raises this device's interrupts. */
  readonly interrupt: VirtioInterrupt;
  /** Extra descriptors to wait on. */
  readonly eventLoop: VirtioEventLoop;
  /** The live configuration space (shared with the vCPU threads). */
  readonly config: VirtioConfigSpace;
}

/**
 * What a transport must know of a device on every thread, before the device
 * object exists on the I/O thread. Structured-clonable.
 */
export interface VirtioDeviceInfo {
  /** The virtio device ID (§5): {@link VIRTIO_ID_NET}, {@link VIRTIO_ID_BLOCK}, {@link VIRTIO_ID_RNG}… */
  readonly deviceType: number;
  /** The largest size of each queue (QueueNumMax), powers of two in 1..32768; its length is the queue count. */
  readonly queueMaxSizes: readonly number[];
  /**
   * The feature bits the device offers, including the transport-level ones it
   * supports (VIRTIO_F_VERSION_1 must be among them;
   * VIRTIO_RING_F_EVENT_IDX and VIRTIO_RING_F_INDIRECT_DESC are handled by
   * `@tsvmm/virtio-queue`).
   */
  readonly availFeatures: bigint;
  /** The initial configuration space, in the device type's little-endian layout. */
  readonly configSpace: Uint8Array;
}

/** A virtio device: lives on the I/O thread, driven by a transport. */
export interface VirtioDevice extends VirtioDeviceInfo {
  /**
   * The driver set DRIVER_OK: start serving the queues. Called once per
   * activation; the next call comes only after {@link reset}. Right after
   * it, the transport calls {@link processQueue} once for each ready queue,
   * for buffers the driver made available before DRIVER_OK.
   */
  activate(activation: VirtioActivation): void;
  /**
   * The driver notified queue `queueIndex` (its ioeventfd fired): pop and
   * serve what is available, add used buffers, signal if the queue needs it.
   * Only called while activated, and only for a ready queue. Serve in the
   * `do { disableNotification; pop… } while (enableNotification())` loop:
   * with EVENT_IDX, `enableNotification` is what publishes `avail_event`,
   * without which the driver stops notifying.
   */
  processQueue(queueIndex: number): void;
  /**
   * The driver reset the device (status 0): drop the queues, stop using guest
   * memory, keep the backend open for the next activation. Idempotent.
   */
  reset(): void;
  /** The VMM is shutting down: release the backend. Optional. */
  close?(): void;
}

/**
 * Builds a device on the I/O thread from the structured-clonable options of
 * a {@link VirtioDeviceSpec}.
 */
export type VirtioDeviceFactory<Options = unknown> = (options: Options) => VirtioDevice;

/**
 * How the VMM's main thread describes a device to the I/O thread: the main
 * thread opens backends (so that a bad disk path fails before the VM starts)
 * and passes their descriptor numbers in `options`; the I/O thread imports
 * `module` and calls its export `factory` with `options`.
 */
export interface VirtioDeviceSpec<Options = unknown> {
  /** The device as the transport sees it (must match what the factory builds). */
  readonly info: VirtioDeviceInfo;
  /**
   * The module that exports `factory`: a `file:` URL or a package specifier.
   * Worker threads run JavaScript, so a `…/src/….ts` URL (a module's
   * `import.meta.url` under vitest) is loaded from the same path under `dist/`.
   */
  readonly module: string;
  /** The name of a {@link VirtioDeviceFactory} exported by `module`. */
  readonly factory: string;
  /** Structured-clonable options for the factory. */
  readonly options: Options;
}
