export * from './constants.js';
export type * from './device.js';
export { VirtioDevicesError, type VirtioDevicesErrorCode } from './errors.js';
export * from './transport/registers.js';
