/**
 * The receive path: frames from the TAP straight into the driver's receive
 * buffers (one `readv` into views of guest memory per frame, no copy).
 *
 * Flow control: a frame is read only into a chain already popped, so when the
 * driver has posted no buffer the device stops reading and the frames wait in
 * the TAP's own queue (the kernel's, up to the interface's `txqueuelen`; past
 * that the kernel drops, as a NIC with a full ring does). The device then asks
 * the driver for a notification (`enableNotification`) and reads on when
 * buffers arrive. Nothing is read that has nowhere to go, so nothing read is
 * lost, and each frame is returned once.
 *
 * Frame sizes: the offered features include no receive offload and no
 * MRG_RXBUF, so Linux posts buffers of 12 + 1518 bytes (the header, an
 * Ethernet frame with a VLAN tag and a 1500-byte payload). With every TAP
 * offload off, the kernel hands over no frame longer than the interface's MTU
 * plus its Ethernet header: 1514 bytes at the default MTU of 1500. A host that
 * raises the TAP's MTU can make frames the buffers cannot hold; such a frame
 * is dropped and counted (`RX_FRAME_TOO_LONG`) and its chain takes the next one.
 */
import type { DescriptorChain } from '@tsvmm/virtio-queue';
import type { NetQueue } from './chains.js';
import { IOV_MAX, VIRTIO_NET_HDR_LEN, VIRTIO_NET_HDR_NUM_BUFFERS } from './constants.js';

/**
 * One byte after the chain's buffers in every read: the kernel fills it only
 * when the frame is longer than the chain (it returns the frame's full
 * length on some kernels and what fit on others, 6.18 among them, so the
 * length alone cannot tell a frame that fit exactly from one cut short).
 */
const SPARE = new Uint8Array(1);

/** The header of every received frame: no flags, no GSO, `num_buffers` 1 (§5.1.6.4 without MRG_RXBUF). */
const RX_HEADER = new Uint8Array(VIRTIO_NET_HDR_LEN);
RX_HEADER[VIRTIO_NET_HDR_NUM_BUFFERS] = 1;

/** The receive queue of a network device; see the module comment. */
export class NetRx {
  readonly #ctx: NetQueue;
  /** The chain the next frame goes into, popped but not yet used. */
  #chain: DescriptorChain | undefined;
  /** Views of its writable buffers, in order, then {@link SPARE}. */
  #views: Uint8Array[] = [];
  /** Their total length. */
  #capacity = 0;

  /** A receive path over `queue`. */
  constructor(queue: NetQueue) {
    this.#ctx = queue;
  }

  /** The queue it serves. */
  get queue(): NetQueue {
    return this.#ctx;
  }

  /**
   * Reads frames into receive buffers until the TAP has none left or the
   * driver has no buffer left; chains go back through the queue (frames, and
   * malformed chains with length 0).
   * @throws VirtioQueueError when the ring is unusable; VirtioDevicesError `BACKEND_IO` when the TAP fails.
   */
  process(): void {
    const { queue, memory, tap, metrics } = this.#ctx;
    queue.disableNotification(memory);
    for (;;) {
      if (this.#chain === undefined) {
        const chain = this.#ctx.pop();
        if (chain === undefined) {
          // Ask for a notification when buffers come; if some came meanwhile, go on.
          if (queue.enableNotification(memory)) continue;
          metrics.rxNoBuffers++;
          return;
        }
        if (!this.#take(chain)) {
          this.#ctx.give(chain.headIndex, 0);
          continue;
        }
      }
      const n = tap.read(this.#views);
      if (n === undefined) return; // nothing queued: the chain waits for the next frame
      if (n > this.#capacity) {
        this.#ctx.fault(
          'RX_FRAME_TOO_LONG',
          `a frame longer than the ${this.#capacity - VIRTIO_NET_HDR_LEN} bytes the buffers hold`,
        );
        continue;
      }
      const chain = this.#chain!;
      this.#finish(chain, n);
      this.#chain = undefined;
      this.#ctx.give(chain.headIndex, n);
      metrics.rxFrames++;
      metrics.rxBytes += n - VIRTIO_NET_HDR_LEN;
    }
  }

  /** Makes `chain` the next frame's destination; false (counted) if it cannot be one. */
  #take(chain: DescriptorChain): boolean {
    const { memory } = this.#ctx;
    const views: Uint8Array[] = [];
    let capacity = 0;
    const descriptors = chain.descriptors;
    for (let i = chain.readableCount; i < descriptors.length; i++) {
      const d = descriptors[i]!;
      if (d.len === 0) continue;
      // Not marked dirty yet: only the bytes a frame fills are, once it is in.
      for (const view of memory.getSlices(d.addr, d.len)) views.push(view);
      capacity += d.len;
    }
    if (capacity < VIRTIO_NET_HDR_LEN) {
      this.#ctx.fault('RX_CHAIN_TOO_SHORT', `${capacity} writable bytes`);
      return false;
    }
    views.push(SPARE);
    if (views.length > IOV_MAX) {
      this.#ctx.fault('RX_TOO_MANY_BUFFERS', `${views.length - 1} pieces`);
      return false;
    }
    this.#chain = chain;
    this.#views = views;
    this.#capacity = capacity;
    return true;
  }

  /** Writes the header over what the TAP put there and marks the `n` bytes written dirty. */
  #finish(chain: DescriptorChain, n: number): void {
    let done = 0;
    for (const view of this.#views) {
      const k = Math.min(view.length, VIRTIO_NET_HDR_LEN - done);
      view.set(RX_HEADER.subarray(done, done + k));
      done += k;
      if (done === VIRTIO_NET_HDR_LEN) break;
    }
    const { memory } = this.#ctx;
    let left = n;
    const descriptors = chain.descriptors;
    for (let i = chain.readableCount; i < descriptors.length && left > 0; i++) {
      const d = descriptors[i]!;
      const k = Math.min(d.len, left);
      if (k > 0) memory.markDirty(d.addr, k);
      left -= k;
    }
  }
}
