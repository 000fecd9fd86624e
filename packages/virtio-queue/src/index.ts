export { MAX_INDIRECT_TABLE_BYTES } from './chain-builder.js';
export * from './constants.js';
export { Reader, Writer } from './cursor.js';
export {
  Descriptor,
  PACKED_DESCRIPTOR,
  type PackedDescriptor,
  SPLIT_DESCRIPTOR,
  type SplitDescriptor,
} from './descriptor.js';
export { DescriptorChain } from './descriptor-chain.js';
export { VirtioQueueError, type VirtioQueueErrorCode } from './errors.js';
export { PackedQueue } from './packed-queue.js';
export type { VirtQueue } from './queue.js';
export { availRingSize, Queue, usedRingSize } from './split-queue.js';
