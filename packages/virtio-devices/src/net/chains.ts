/** What the receive and the transmit paths share: one queue with what serving it needs. */
import { type DescriptorChain, VirtioQueueError, type VirtQueue } from '@tsvmm/virtio-queue';
import type { GuestMemory } from '@tsvmm/vm-memory';
import type { NetFault, NetMetrics } from './metrics.js';
import type { Tap } from './tap.js';

/** One queue of a network device, the TAP, and how chains leave it. */
export class NetQueue {
  /** Chains returned to the driver so far (the device raises the interrupt if any were). */
  returned = 0;

  constructor(
    readonly queue: VirtQueue,
    readonly memory: GuestMemory,
    readonly tap: Tap,
    readonly metrics: NetMetrics,
    /** Counts a fault (and reports the first of each kind). */
    readonly fault: (fault: NetFault, detail: string) => void,
  ) {}

  /**
   * The next available chain; undefined when there is none. A chain the
   * queue rejects is returned to the driver with used length 0, counted, and
   * the next one is taken.
   * @throws VirtioQueueError when the ring itself is unusable (no chain to
   *   blame: an available index too far ahead): the device cannot go on, and
   *   the transport sets NEEDS_RESET.
   */
  pop(): DescriptorChain | undefined {
    for (;;) {
      try {
        return this.queue.popDescriptorChain(this.memory);
      } catch (err) {
        if (!(err instanceof VirtioQueueError) || err.headIndex === undefined) throw err;
        this.fault('MALFORMED_CHAIN', `${err.code}: ${err.message}`);
        this.give(err.headIndex, 0);
      }
    }
  }

  /**
   * Returns a chain with `len` bytes written (`addUsed`), except one whose
   * head index lies outside the ring (a malformed chain can name one): that
   * cannot be returned.
   */
  give(headIndex: number, len: number): void {
    try {
      this.queue.addUsed(this.memory, headIndex, len);
      this.returned++;
    } catch (err) {
      if (!(err instanceof VirtioQueueError && err.code === 'INVALID_USED_ID')) throw err;
    }
  }
}
