export { GuestAddress, type GuestAddressFunctions, MemoryRegionAddress } from './address.js';
export { GuestMemoryArrayBuffer, type GuestMemoryArrayBufferOptions } from './arraybuffer-memory.js';
export { DIRTY_PAGE_SIZE, DirtyBitmap, type DirtyBitmapOptions } from './dirty-bitmap.js';
export { VmMemoryError, type VmMemoryErrorCode, type VmMemoryErrorDetails } from './errors.js';
export type { GuestMemory } from './guest-memory.js';
export type { ObjectLayout } from './layout.js';
export {
  type FromDescriptorOptions,
  GuestMemoryMmap,
  type GuestMemoryMmapOptions,
  HUGE_PAGE_SIZE,
  type UserMemoryRegion,
} from './mmap-memory.js';
export type {
  DirtyTrackingOption,
  GuestMemoryDescriptor,
  GuestRegionDescriptor,
  MemoryRange,
} from './ranges.js';
export { type GuestMemoryRegion, GuestRegion, MAX_REGION_SIZE, type RegionBacking } from './region.js';
export { GuestRegionCollection } from './region-collection.js';
