/**
 * A driver for a virtio-mmio transport, doing what Linux's virtio_mmio.c
 * does with 32-bit register accesses: the test double at the guest boundary.
 */
import type { MockSplitQueue } from '@tsvmm/virtio-queue/testing';
import {
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FEATURES_OK,
  VIRTIO_MMIO_DEVICE_FEATURES,
  VIRTIO_MMIO_DEVICE_FEATURES_SEL,
  VIRTIO_MMIO_DRIVER_FEATURES,
  VIRTIO_MMIO_DRIVER_FEATURES_SEL,
  VIRTIO_MMIO_QUEUE_AVAIL_HIGH,
  VIRTIO_MMIO_QUEUE_AVAIL_LOW,
  VIRTIO_MMIO_QUEUE_DESC_HIGH,
  VIRTIO_MMIO_QUEUE_DESC_LOW,
  VIRTIO_MMIO_QUEUE_NUM,
  VIRTIO_MMIO_QUEUE_READY,
  VIRTIO_MMIO_QUEUE_SEL,
  VIRTIO_MMIO_QUEUE_USED_HIGH,
  VIRTIO_MMIO_QUEUE_USED_LOW,
  VIRTIO_MMIO_STATUS,
  type VirtioMmioTransport,
} from '../../src/index.js';

export class MmioDriver {
  constructor(readonly transport: VirtioMmioTransport) {}

  read(offset: number): number {
    const data = new Uint8Array(4);
    this.transport.read(offset, data);
    return new DataView(data.buffer).getUint32(0, true);
  }

  write(offset: number, value: number): void {
    const data = new Uint8Array(4);
    new DataView(data.buffer).setUint32(0, value >>> 0, true);
    this.transport.write(offset, data);
  }

  get status(): number {
    return this.read(VIRTIO_MMIO_STATUS);
  }

  /** Linux's virtio_add_status(): read, OR, write. */
  addStatus(bits: number): void {
    this.write(VIRTIO_MMIO_STATUS, this.status | bits);
  }

  deviceFeatures(): bigint {
    this.write(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    const high = BigInt(this.read(VIRTIO_MMIO_DEVICE_FEATURES));
    this.write(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    return (high << 32n) | BigInt(this.read(VIRTIO_MMIO_DEVICE_FEATURES));
  }

  writeFeatures(features: bigint): void {
    this.write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    this.write(VIRTIO_MMIO_DRIVER_FEATURES, Number(features >> 32n));
    this.write(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    this.write(VIRTIO_MMIO_DRIVER_FEATURES, Number(features & 0xffff_ffffn));
  }

  /** Reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK. Returns whether FEATURES_OK stuck. */
  negotiate(features: bigint): boolean {
    this.write(VIRTIO_MMIO_STATUS, 0);
    this.addStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE);
    this.addStatus(VIRTIO_CONFIG_S_DRIVER);
    this.writeFeatures(features);
    this.addStatus(VIRTIO_CONFIG_S_FEATURES_OK);
    return (this.status & VIRTIO_CONFIG_S_FEATURES_OK) !== 0;
  }

  /** Sets queue `index` up on a mock driver's rings, as vm_setup_vq() does. */
  setupQueue(index: number, mock: MockSplitQueue): void {
    const halves = (a: bigint) => [Number(a & 0xffff_ffffn), Number(a >> 32n)] as const;
    this.write(VIRTIO_MMIO_QUEUE_SEL, index);
    this.write(VIRTIO_MMIO_QUEUE_NUM, mock.size);
    const [dl, dh] = halves(mock.descTable);
    const [al, ah] = halves(mock.availRing);
    const [ul, uh] = halves(mock.usedRing);
    this.write(VIRTIO_MMIO_QUEUE_DESC_LOW, dl);
    this.write(VIRTIO_MMIO_QUEUE_DESC_HIGH, dh);
    this.write(VIRTIO_MMIO_QUEUE_AVAIL_LOW, al);
    this.write(VIRTIO_MMIO_QUEUE_AVAIL_HIGH, ah);
    this.write(VIRTIO_MMIO_QUEUE_USED_LOW, ul);
    this.write(VIRTIO_MMIO_QUEUE_USED_HIGH, uh);
    this.write(VIRTIO_MMIO_QUEUE_READY, 1);
  }

  /** The whole probe: negotiate, set the queues up, DRIVER_OK. */
  probe(features: bigint, queues: readonly MockSplitQueue[]): void {
    if (!this.negotiate(features)) throw new Error('FEATURES_OK refused');
    for (const [i, q] of queues.entries()) this.setupQueue(i, q);
    this.addStatus(VIRTIO_CONFIG_S_DRIVER_OK);
  }
}
