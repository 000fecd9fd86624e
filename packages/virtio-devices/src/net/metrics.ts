/** What a network device counts: frames and bytes each way, waits, and every fault by name. */

/**
 * Why a chain or a frame was not carried, as counted. Each one is the
 * driver's doing (the TAP refusing a frame included: it refuses only frames
 * that no well-formed driver sends); the frame is dropped and the device goes on.
 *
 * - `MALFORMED_CHAIN`: the queue rejected the chain when it was popped (returned with used length 0).
 * - `TX_TOO_SHORT`: a transmit chain shorter than the 12-byte header and an Ethernet header.
 * - `TX_TOO_LONG`: a frame longer than {@link NET_MAX_FRAME}.
 * - `TX_TOO_MANY_BUFFERS`: a frame in more than {@link IOV_MAX} pieces of guest memory.
 * - `TX_REFUSED`: the TAP refused the frame (`writev` failed, e.g. `EINVAL`).
 * - `RX_CHAIN_TOO_SHORT`: a receive chain with fewer than 12 writable bytes, returned with used length 0.
 * - `RX_TOO_MANY_BUFFERS`: a receive chain in more than {@link IOV_MAX} pieces, returned with used length 0.
 * - `RX_FRAME_TOO_LONG`: a frame longer than the receive chain; it is dropped and the chain takes the next one.
 */
export type NetFault =
  | 'MALFORMED_CHAIN'
  | 'TX_TOO_SHORT'
  | 'TX_TOO_LONG'
  | 'TX_TOO_MANY_BUFFERS'
  | 'TX_REFUSED'
  | 'RX_CHAIN_TOO_SHORT'
  | 'RX_TOO_MANY_BUFFERS'
  | 'RX_FRAME_TOO_LONG';

/** A network device's counters since it was created (resets of the device do not clear them). */
export interface NetMetrics {
  /** Frames delivered to the driver. */
  rxFrames: number;
  /** Their bytes, without the virtio-net header. */
  rxBytes: number;
  /** Times reading from the TAP stopped because the driver had posted no receive buffer. */
  rxNoBuffers: number;
  /** Frames written to the TAP. */
  txFrames: number;
  /** Their bytes, without the virtio-net header. */
  txBytes: number;
  /** Times the TAP could not take a frame yet (`EAGAIN`); the frame waited for the TAP to drain. */
  txWaits: number;
  /** Frames the TAP dropped because its interface is down on the host (`EIO`, like an unplugged cable). */
  txLinkDown: number;
  /** Failures of the TAP itself (its interface deleted, …); the link then goes down for good. */
  backendErrors: number;
  /** Interrupts raised. */
  interrupts: number;
  /** Each fault, by name. */
  faults: Record<NetFault, number>;
}

/** Fresh counters, all zero. */
export function newNetMetrics(): NetMetrics {
  return {
    rxFrames: 0,
    rxBytes: 0,
    rxNoBuffers: 0,
    txFrames: 0,
    txBytes: 0,
    txWaits: 0,
    txLinkDown: 0,
    backendErrors: 0,
    interrupts: 0,
    faults: {
      MALFORMED_CHAIN: 0,
      TX_TOO_SHORT: 0,
      TX_TOO_LONG: 0,
      TX_TOO_MANY_BUFFERS: 0,
      TX_REFUSED: 0,
      RX_CHAIN_TOO_SHORT: 0,
      RX_TOO_MANY_BUFFERS: 0,
      RX_FRAME_TOO_LONG: 0,
    },
  };
}
