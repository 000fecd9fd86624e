/**
 * virtio-rng (virtio 1.2 §5.4, device type 4): one request queue whose
 * device-writable buffers the device fills with bytes from the host's
 * cryptographic random source (`crypto.randomFillSync`, i.e. the kernel's
 * CSPRNG), written straight into guest memory.
 */
import { randomFillSync } from 'node:crypto';
import {
  VIRTIO_RING_F_EVENT_IDX,
  VIRTIO_RING_F_INDIRECT_DESC,
  VirtioQueueError,
  type VirtQueue,
} from '@tsvmm/virtio-queue';
import type { GuestMemory } from '@tsvmm/vm-memory';
import { VIRTIO_F_VERSION_1, VIRTIO_ID_RNG } from '../constants.js';
import type { VirtioActivation, VirtioDevice, VirtioDeviceInfo, VirtioInterrupt } from '../device.js';

/** The request queue's largest size. */
export const RNG_QUEUE_SIZE = 256;
/**
 * The most bytes one request gets. Linux asks for at most a few hundred;
 * the cap keeps a guest that posts gigabyte buffers from holding the I/O
 * thread (it still gets what it asked for, a request at a time).
 */
export const RNG_MAX_REQUEST_BYTES = 64 * 1024;

/** What the transport presents for virtio-rng: no configuration space, one queue. */
export const RNG_DEVICE_INFO: VirtioDeviceInfo = Object.freeze({
  deviceType: VIRTIO_ID_RNG,
  queueMaxSizes: Object.freeze([RNG_QUEUE_SIZE]),
  availFeatures:
    (1n << BigInt(VIRTIO_F_VERSION_1)) |
    (1n << BigInt(VIRTIO_RING_F_EVENT_IDX)) |
    (1n << BigInt(VIRTIO_RING_F_INDIRECT_DESC)),
  configSpace: new Uint8Array(0),
});

/** What the rng device counted. */
export interface RngMetrics {
  /** Requests answered. */
  requests: number;
  /** Random bytes written into guest memory. */
  bytes: number;
  /** Malformed chains, returned with length 0. */
  badChains: number;
}

/** The entropy device. */
export class RngDevice implements VirtioDevice {
  readonly deviceType = RNG_DEVICE_INFO.deviceType;
  readonly queueMaxSizes = RNG_DEVICE_INFO.queueMaxSizes;
  readonly availFeatures = RNG_DEVICE_INFO.availFeatures;
  readonly configSpace = RNG_DEVICE_INFO.configSpace;
  /** Counters since construction. */
  readonly metrics: RngMetrics = { requests: 0, bytes: 0, badChains: 0 };
  #active: { memory: GuestMemory; queue: VirtQueue; interrupt: VirtioInterrupt } | undefined;

  activate({ memory, queues, interrupt }: VirtioActivation): void {
    this.#active = { memory, queue: queues[0]!, interrupt };
  }

  processQueue(queueIndex: number): void {
    const active = this.#active;
    if (active === undefined || queueIndex !== 0) return;
    const { memory, queue, interrupt } = active;
    let used = 0;
    // With EVENT_IDX, re-enabling publishes avail_event; buffers that arrived meanwhile are served too.
    do {
      queue.disableNotification(memory);
      used += this.#serve(memory, queue);
    } while (queue.enableNotification(memory));
    if (used > 0 && queue.needsNotification(memory)) interrupt.signalUsedQueue(0);
  }

  /** Fills every available chain; returns how many were returned used. */
  #serve(memory: GuestMemory, queue: VirtQueue): number {
    let used = 0;
    for (;;) {
      let chain: ReturnType<VirtQueue['popDescriptorChain']>;
      try {
        chain = queue.popDescriptorChain(memory);
      } catch (e) {
        // A malformed chain is consumed; hand it back empty and go on. Without a head, the ring is broken.
        if (!(e instanceof VirtioQueueError) || e.headIndex === undefined) throw e;
        this.metrics.badChains++;
        queue.addUsed(memory, e.headIndex, 0);
        used++;
        continue;
      }
      if (chain === undefined) return used;
      const writer = chain.writer();
      const n = Math.min(writer.availableBytes, RNG_MAX_REQUEST_BYTES);
      for (const view of writer.slices(n)) randomFillSync(view);
      queue.addUsed(memory, chain.headIndex, n);
      this.metrics.requests++;
      this.metrics.bytes += n;
      used++;
    }
  }

  reset(): void {
    this.#active = undefined;
  }
}

/** The {@link VirtioDeviceFactory} the I/O thread calls for virtio-rng (it takes no options). */
export function createRngDevice(_options?: unknown): RngDevice {
  return new RngDevice();
}
