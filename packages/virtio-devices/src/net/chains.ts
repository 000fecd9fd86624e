/** What the receive and the transmit paths share: their context, and popping a chain that may be malformed. */
import { type DescriptorChain, VirtioQueueError, type VirtQueue } from '@tsvmm/virtio-queue';
import type { GuestMemory } from '@tsvmm/vm-memory';
import type { NetFault, NetMetrics } from './metrics.js';
import type { Tap } from './tap.js';

/** One queue of a network device, with what its path needs. */
export interface NetQueueContext {
  readonly queue: VirtQueue;
  readonly memory: GuestMemory;
  readonly tap: Tap;
  readonly metrics: NetMetrics;
  /** Counts a fault (and reports the first of each kind). */
  fault(fault: NetFault, detail: string): void;
}

/**
 * The next available chain; undefined when there is none. A chain the queue
 * rejects is returned to the driver with used length 0, counted, and the
 * next one is taken. Returns `[chain, returned]`: how many malformed chains
 * were returned on the way.
 * @throws VirtioQueueError when the ring itself is unusable (no chain to
 *   blame: an available index too far ahead, a queue not ready): the device
 *   cannot go on, and the transport sets NEEDS_RESET.
 */
export function popChain(ctx: NetQueueContext): [chain: DescriptorChain | undefined, returned: number] {
  const { queue, memory } = ctx;
  let returned = 0;
  for (;;) {
    try {
      return [queue.popDescriptorChain(memory), returned];
    } catch (err) {
      if (!(err instanceof VirtioQueueError) || err.headIndex === undefined) throw err;
      ctx.fault('MALFORMED_CHAIN', `${err.code}: ${err.message}`);
      if (returnChain(queue, memory, err.headIndex, 0)) returned++;
    }
  }
}

/**
 * `addUsed`, except for a head index outside the ring (a malformed chain
 * can name one), which cannot be returned: false then.
 */
export function returnChain(queue: VirtQueue, memory: GuestMemory, headIndex: number, len: number): boolean {
  try {
    queue.addUsed(memory, headIndex, len);
    return true;
  } catch (err) {
    if (err instanceof VirtioQueueError && err.code === 'INVALID_USED_ID') return false;
    throw err;
  }
}
