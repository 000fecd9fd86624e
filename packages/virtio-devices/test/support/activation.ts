/**
 * Activating a device directly on mock queues, as a transport would, with
 * an interrupt that records what the device signalled.
 */
import type { Queue } from '@tsvmm/virtio-queue';
import type { GuestMemory } from '@tsvmm/vm-memory';
import type { VirtioActivation, VirtioEventLoop, VirtioInterrupt } from '../../src/index.js';

export class RecordingInterrupt implements VirtioInterrupt {
  readonly used: number[] = [];
  configChanges = 0;
  signalUsedQueue(queueIndex: number): void {
    this.used.push(queueIndex);
  }
  signalConfigChange(): void {
    this.configChanges++;
  }
}

const noEventLoop: VirtioEventLoop = {
  add: () => {
    throw new Error('this device has no extra descriptors');
  },
  modify: () => {
    throw new Error('this device has no extra descriptors');
  },
  remove: () => {
    throw new Error('this device has no extra descriptors');
  },
};

export function activation(
  memory: GuestMemory,
  queues: Queue[],
  ackedFeatures: bigint,
  interrupt = new RecordingInterrupt(),
): VirtioActivation & { interrupt: RecordingInterrupt } {
  const bytes = new Uint8Array(0);
  return {
    memory,
    queues,
    ackedFeatures,
    interrupt,
    eventLoop: noEventLoop,
    config: {
      length: 0,
      read: () => bytes,
      write: () => {
        throw new RangeError('no configuration space');
      },
    },
  };
}
