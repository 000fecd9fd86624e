export * from './config-space.js';
export * from './constants.js';
export {
  BLOCK_MAX_WRITE_ZEROES_SECTORS,
  BLOCK_MAX_WRITE_ZEROES_SEG,
  BLOCK_QUEUE_SIZE,
  Block,
  type BlockInfoOptions,
  type BlockOptions,
  blockDeviceInfo,
  blockSerialId,
} from './device.js';
export { DiskImage, type DiskImageDescriptor, type DiskImageOptions } from './disk-image.js';
export type { BlockFault, BlockMetrics } from './metrics.js';
export type { BlockRequestFault } from './request.js';
export {
  type BlockDiskOptions,
  type BlockFactoryOptions,
  blockDeviceSpec,
  closeBlockDeviceSpec,
  createBlock,
} from './spec.js';
