/**
 * The transmit path: each chain is one frame behind a 12-byte header, written
 * to the TAP with one `writev` gathered straight from guest memory.
 *
 * The driver's header is checked for its length only: no transmit offload is
 * offered, so it carries nothing the device may act on (§5.1.6.2), and the
 * TAP gets a zero header of the device's own, so that no guest-written GSO
 * or checksum request reaches the host's network stack.
 *
 * Back-pressure: when the TAP cannot take a frame (`EAGAIN`), its chain goes
 * back to the available ring (`undoPop`) and the path waits until the TAP is
 * writable (`EPOLLOUT`) before it pops it again: a frame is written once, and
 * none is dropped for want of room.
 */
import { constants as osConstants } from 'node:os';
import { SysError } from '@tsvmm/vmm-sys-util';
import { VirtioDevicesError } from '../errors.js';
import type { NetQueue } from './chains.js';
import { ETH_HLEN, IOV_MAX, NET_MAX_FRAME, VIRTIO_NET_HDR_LEN } from './constants.js';
import type { NetFault } from './metrics.js';

const { EIO } = osConstants.errno;
/** Linux's "file descriptor in bad state": the TAP's interface is gone (not in Node's `os.constants.errno`). */
const EBADFD = 77;

/** The header in front of every frame written to the TAP: no checksum or GSO work asked of the host. */
const TX_HEADER = new Uint8Array(VIRTIO_NET_HDR_LEN);

/** The transmit queue of a network device; see the module comment. */
export class NetTx {
  readonly #ctx: NetQueue;
  #waiting = false;

  /** A transmit path over `queue`. */
  constructor(queue: NetQueue) {
    this.#ctx = queue;
  }

  /** The queue it serves. */
  get queue(): NetQueue {
    return this.#ctx;
  }

  /** Whether a frame waits for the TAP to become writable. */
  get waiting(): boolean {
    return this.#waiting;
  }

  /**
   * Writes every available frame to the TAP, until the ring is empty or the
   * TAP is full; each chain goes back through the queue with length 0.
   * @throws VirtioQueueError when the ring is unusable; VirtioDevicesError
   *   `BACKEND_IO` when the TAP fails (the frame's chain is put back first).
   */
  process(): void {
    const { queue, memory, metrics } = this.#ctx;
    this.#waiting = false;
    queue.disableNotification(memory);
    for (;;) {
      const chain = this.#ctx.pop();
      if (chain === undefined) {
        if (queue.enableNotification(memory)) continue;
        return;
      }
      const frameLen = chain.readableLength - VIRTIO_NET_HDR_LEN;
      let fault: NetFault | undefined;
      let written: number | undefined = 0;
      if (frameLen < ETH_HLEN) fault = 'TX_TOO_SHORT';
      else if (frameLen > NET_MAX_FRAME) fault = 'TX_TOO_LONG';
      else {
        const reader = chain.reader();
        reader.skip(VIRTIO_NET_HDR_LEN);
        const views = reader.slices();
        if (views.length >= IOV_MAX) fault = 'TX_TOO_MANY_BUFFERS';
        else {
          views.unshift(TX_HEADER);
          written = this.#write(views);
          if (written === undefined) {
            queue.undoPop();
            this.#waiting = true;
            metrics.txWaits++;
            return;
          }
        }
      }
      if (fault !== undefined) this.#ctx.fault(fault, `a ${frameLen}-byte frame`);
      else if (written > 0) {
        metrics.txFrames++;
        metrics.txBytes += frameLen;
      }
      this.#ctx.give(chain.headIndex, 0);
    }
  }

  /** With the link down for good: returns every available chain unsent (counted `txLinkDown`). */
  dropAll(): void {
    for (let chain = this.#ctx.pop(); chain !== undefined; chain = this.#ctx.pop()) {
      this.#ctx.metrics.txLinkDown++;
      this.#ctx.give(chain.headIndex, 0);
    }
  }

  /**
   * Writes one frame: its length with the header, 0 if it was dropped, or
   * undefined if the TAP is full. Rethrows what the TAP itself failed with.
   */
  #write(views: Uint8Array[]): number | undefined {
    try {
      return this.#ctx.tap.write(views);
    } catch (err) {
      const cause = err instanceof VirtioDevicesError ? err.cause : undefined;
      if (!(cause instanceof SysError) || cause.errno === EBADFD) {
        this.#ctx.queue.undoPop();
        throw err;
      }
      if (cause.errno === EIO) this.#ctx.metrics.txLinkDown++;
      else this.#ctx.fault('TX_REFUSED', cause.message);
      return 0;
    }
  }
}
