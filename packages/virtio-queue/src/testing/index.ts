export type { MockBuffer, MockChain, MockUsed } from './mock-buffers.js';
export { MockPackedQueue, type MockPackedQueueOptions, packedAvailFlags } from './mock-packed-queue.js';
export { MockSplitQueue, type MockSplitQueueOptions } from './mock-split-queue.js';
export {
  AccessBudgetExceeded,
  type RecordedAccess,
  RecordingMemory,
  type RecordingMemoryOptions,
} from './recording-memory.js';
