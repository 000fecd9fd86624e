export * from './block/index.js';
export * from './constants.js';
export type * from './device.js';
export { VirtioDevicesError, type VirtioDevicesErrorCode } from './errors.js';
export { IoEventLoop } from './io-thread/event-loop.js';
export { IoThread, type IoThreadOptions } from './io-thread/io-thread.js';
export { builtModuleUrl } from './io-thread/module-url.js';
export * from './net/index.js';
export {
  createRngDevice,
  RNG_DEVICE_INFO,
  RNG_MAX_REQUEST_BYTES,
  RNG_QUEUE_SIZE,
  RngDevice,
  type RngMetrics,
} from './rng/device.js';
export { rngDeviceSpec } from './rng/spec.js';
export { MmioDeviceRunner, type MmioDeviceRunnerOptions } from './transport/mmio-device-runner.js';
export {
  type VirtioMmioCounters,
  type VirtioMmioOptions,
  type VirtioMmioShared,
  VirtioMmioTransport,
} from './transport/mmio-transport.js';
export * from './transport/registers.js';
