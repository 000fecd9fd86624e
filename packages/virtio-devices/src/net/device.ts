/**
 * The virtio-net device (virtio 1.2 §5.1) over a {@link Tap}: one receive and
 * one transmit queue, served on the I/O thread, frames moved straight between
 * the TAP and guest memory ({@link NetRx}, {@link NetTx}).
 *
 * What it offers, and why:
 * - VIRTIO_NET_F_MAC: the address the guest's interface takes, configured or
 *   random (locally administered).
 * - VIRTIO_NET_F_STATUS: the link is up; it goes down for good if the TAP
 *   itself fails (its interface deleted), and the driver is told through a
 *   configuration change, as a NIC reports a pulled cable.
 * - No offloads (checksum, GSO) and no MRG_RXBUF: every frame is at most a
 *   link MTU long and fits one receive buffer of the size Linux posts; the
 *   header is zero both ways, except `num_buffers` = 1 on receive.
 * - VIRTIO_RING_F_EVENT_IDX and VIRTIO_RING_F_INDIRECT_DESC (handled by
 *   `@tsvmm/virtio-queue`), and VIRTIO_F_VERSION_1.
 *
 * The TAP descriptor is waited on edge-triggered for input and output: input
 * runs the receive path, output resumes a transmit path that found the TAP
 * full. Each path also runs when the driver notifies its queue.
 */

import { VIRTIO_RING_F_EVENT_IDX, VIRTIO_RING_F_INDIRECT_DESC, type VirtQueue } from '@tsvmm/virtio-queue';
import { EPOLLET, EPOLLIN, EPOLLOUT } from '@tsvmm/vmm-sys-util';
import { VIRTIO_F_VERSION_1, VIRTIO_ID_NET } from '../constants.js';
import type { VirtioActivation, VirtioDevice, VirtioDeviceInfo } from '../device.js';
import { VirtioDevicesError } from '../errors.js';
import { NetQueue } from './chains.js';
import { encodeNetConfig, VIRTIO_NET_CONFIG } from './config-space.js';
import {
  NET_QUEUE_MAX_SIZE,
  NET_RX_QUEUE,
  NET_TX_QUEUE,
  VIRTIO_NET_F_MAC,
  VIRTIO_NET_F_STATUS,
} from './constants.js';
import { formatMac, parseMac, randomMac } from './mac.js';
import { type NetFault, type NetMetrics, newNetMetrics } from './metrics.js';
import { NetRx } from './rx.js';
import type { Tap } from './tap.js';
import { NetTx } from './tx.js';

const bit = (n: number): bigint => 1n << BigInt(n);

/** What a network device is, before it exists: the same on the main thread and on the I/O thread. */
export interface NetInfoOptions {
  /** The guest's MAC address, `02:00:00:00:00:01` or six bytes. */
  readonly mac: string | Uint8Array;
  /** Size of each queue, a power of two in 2..32768; default {@link NET_QUEUE_MAX_SIZE}. */
  readonly queueSize?: number;
}

/** Six bytes of a MAC given as text or bytes. @throws as {@link parseMac}; RangeError unless six unicast bytes. */
function macBytes(mac: string | Uint8Array): Uint8Array {
  if (typeof mac === 'string') return parseMac(mac);
  if (!(mac instanceof Uint8Array)) throw new TypeError('mac must be a string or a Uint8Array');
  return parseMac(formatMac(mac));
}

/**
 * The transport's view of a network device: type, two queues, features and
 * configuration space (link up).
 * @throws TypeError/RangeError for a bad MAC address or queue size.
 */
export function netDeviceInfo(options: NetInfoOptions): VirtioDeviceInfo {
  const mac = macBytes(options.mac);
  const queueSize = options.queueSize ?? NET_QUEUE_MAX_SIZE;
  if (
    !Number.isInteger(queueSize) ||
    queueSize < 2 ||
    queueSize > 32768 ||
    (queueSize & (queueSize - 1)) !== 0
  )
    throw new RangeError(`queueSize must be a power of two in 2..32768, got ${queueSize}`);
  return {
    deviceType: VIRTIO_ID_NET,
    queueMaxSizes: [queueSize, queueSize],
    availFeatures:
      bit(VIRTIO_F_VERSION_1) |
      bit(VIRTIO_RING_F_EVENT_IDX) |
      bit(VIRTIO_RING_F_INDIRECT_DESC) |
      bit(VIRTIO_NET_F_MAC) |
      bit(VIRTIO_NET_F_STATUS),
    configSpace: encodeNetConfig(mac, true),
  };
}

/** Options of a {@link Net} device. */
export interface NetOptions {
  /** The guest's MAC address; default a random locally administered one. */
  mac?: string | Uint8Array;
  /** Queue size; default {@link NET_QUEUE_MAX_SIZE}. */
  queueSize?: number;
  /** Where the first occurrence of each kind of fault, and a TAP failure, are reported; default `console.warn`. */
  log?: (message: string) => void;
}

interface Active {
  readonly activation: VirtioActivation;
  /** The receive path; none if the driver did not set its queue ready. */
  readonly rx: NetRx | undefined;
  /** The transmit path; none if the driver did not set its queue ready. */
  readonly tx: NetTx | undefined;
  /** Whether the TAP descriptor is in the event loop. */
  polling: boolean;
}

/** A virtio-net device; see the module comment. */
export class Net implements VirtioDevice {
  /** VIRTIO_ID_NET. */
  readonly deviceType: number;
  /** The receive and the transmit queue's largest size. */
  readonly queueMaxSizes: readonly number[];
  /** The features offered (see the module comment). */
  readonly availFeatures: bigint;
  /** The initial configuration space: the MAC, link up. */
  readonly configSpace: Uint8Array;
  /** The backend. */
  readonly tap: Tap;
  /** The guest's MAC address, `aa:bb:cc:dd:ee:ff`. */
  readonly mac: string;
  /** Counters of frames, bytes, waits and faults. */
  readonly metrics: NetMetrics = newNetMetrics();
  readonly #log: (message: string) => void;
  readonly #logged = new Set<NetFault>();
  #active: Active | undefined;
  /** The TAP failed: the link is down and stays down. */
  #failed = false;

  /**
   * A device over `tap`.
   * @throws TypeError/RangeError for bad options (see {@link netDeviceInfo}).
   */
  constructor(tap: Tap, options: NetOptions = {}) {
    const mac = options.mac ?? randomMac();
    const info = netDeviceInfo({
      mac,
      ...(options.queueSize === undefined ? {} : { queueSize: options.queueSize }),
    });
    this.deviceType = info.deviceType;
    this.queueMaxSizes = info.queueMaxSizes;
    this.availFeatures = info.availFeatures;
    this.configSpace = info.configSpace;
    this.mac = formatMac(info.configSpace.subarray(VIRTIO_NET_CONFIG.mac, VIRTIO_NET_CONFIG.mac + 6));
    this.tap = tap;
    this.#log = options.log ?? ((m) => console.warn(m));
  }

  /** Whether the driver has set DRIVER_OK and the device serves its queues. */
  get active(): boolean {
    return this.#active !== undefined;
  }

  /** Whether the link is up: false once the TAP has failed. */
  get linkUp(): boolean {
    return !this.#failed;
  }

  /**
   * The driver set DRIVER_OK: serve the queues it set ready and wait on the
   * TAP (unless the TAP has failed: the link then stays down).
   * @throws RangeError if `activation` lacks either queue.
   */
  activate(activation: VirtioActivation): void {
    const { queues, memory } = activation;
    const rxQueue = queues[NET_RX_QUEUE];
    const txQueue = queues[NET_TX_QUEUE];
    if (rxQueue === undefined || txQueue === undefined)
      throw new RangeError('a network device needs its receive and transmit queues');
    const queue = (q: VirtQueue) =>
      new NetQueue(q, memory, this.tap, this.metrics, (fault, detail) => this.#fault(fault, detail));
    const active: Active = {
      activation,
      rx: rxQueue.ready ? new NetRx(queue(rxQueue)) : undefined,
      tx: txQueue.ready ? new NetTx(queue(txQueue)) : undefined,
      polling: false,
    };
    this.#active = active;
    if (this.#failed) {
      activation.config.write(VIRTIO_NET_CONFIG.status, new Uint8Array(2));
      return;
    }
    activation.eventLoop.add(this.tap.fd, EPOLLIN | EPOLLOUT | EPOLLET, (events) => this.#onTap(events));
    active.polling = true;
    // Frames may have queued up, and chains been made available, before now.
    this.#serve(NET_RX_QUEUE);
    this.#serve(NET_TX_QUEUE);
  }

  /**
   * Serves queue `queueIndex`: the receive queue got buffers (read the frames
   * that waited for them), or the transmit queue got frames (write them).
   * Malformed chains are returned with used length 0 and counted.
   * @throws VirtioQueueError when a ring itself is unusable: the device
   *   cannot go on, and the transport sets NEEDS_RESET.
   */
  processQueue(queueIndex: number): void {
    if (this.#active === undefined) return;
    if (queueIndex === NET_RX_QUEUE || queueIndex === NET_TX_QUEUE) this.#serve(queueIndex);
  }

  /** The TAP is readable, writable, or failed. */
  #onTap(events: number): void {
    const active = this.#active;
    if (active === undefined) return;
    if ((events & EPOLLOUT) !== 0 && active.tx?.waiting === true) this.#serve(NET_TX_QUEUE);
    if ((events & ~EPOLLOUT) !== 0) this.#serve(NET_RX_QUEUE);
  }

  #serve(queueIndex: number): void {
    const active = this.#active!;
    const path = queueIndex === NET_RX_QUEUE ? active.rx : active.tx;
    if (path === undefined) return;
    const before = [active.rx?.queue.returned ?? 0, active.tx?.queue.returned ?? 0];
    try {
      if (!this.#failed) path.process();
      else if (path === active.tx) active.tx.dropAll();
    } catch (err) {
      if (!(err instanceof VirtioDevicesError && err.code === 'BACKEND_IO')) throw err;
      this.#tapFailed(active, err);
    }
    // Both queues: a TAP failure found on the receive path returns the transmit chains too.
    for (const [index, p] of [active.rx, active.tx].entries()) {
      if (p === undefined || p.queue.returned === before[index]) continue;
      if (!p.queue.queue.needsNotification(p.queue.memory)) continue;
      this.metrics.interrupts++;
      active.activation.interrupt.signalUsedQueue(index);
    }
  }

  /** The TAP failed: stop waiting on it, take the link down, tell the driver, return what waits to be sent. */
  #tapFailed(active: Active, err: VirtioDevicesError): void {
    this.#failed = true;
    this.metrics.backendErrors++;
    if (active.polling) {
      active.activation.eventLoop.remove(this.tap.fd);
      active.polling = false;
    }
    const { config, interrupt } = active.activation;
    config.write(VIRTIO_NET_CONFIG.status, new Uint8Array(2));
    interrupt.signalConfigChange();
    this.#log(`virtio-net ${this.tap.name}: the link is down for good: ${err.message}`);
    active.tx?.dropAll();
  }

  /** Counts a fault, and reports the first of each kind. */
  #fault(fault: NetFault, detail: string): void {
    this.metrics.faults[fault]++;
    if (this.#logged.has(fault)) return;
    this.#logged.add(fault);
    this.#log(`virtio-net ${this.tap.name}: ${fault} (${detail}); further ones are only counted`);
  }

  /** The driver reset the device: stop serving; the TAP stays open and its frames wait in it. */
  reset(): void {
    // The transport's event loop removes the TAP descriptor it added for this device.
    this.#active = undefined;
  }

  /** Closes the TAP (a TAP this process created goes away). The device must not be activated again. */
  close(): void {
    this.#active = undefined;
    this.tap.close();
  }
}
