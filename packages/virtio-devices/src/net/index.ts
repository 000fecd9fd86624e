export { encodeNetConfig, VIRTIO_NET_CONFIG } from './config-space.js';
export * from './constants.js';
export { Net, type NetInfoOptions, type NetOptions, netDeviceInfo } from './device.js';
export { formatMac, parseMac, randomMac } from './mac.js';
export type { NetFault, NetMetrics } from './metrics.js';
export {
  closeNetDeviceSpec,
  createNet,
  type NetFactoryOptions,
  type NetTapOptions,
  netDeviceSpec,
} from './spec.js';
export { checkInterfaceName, Tap, type TapOpenOptions } from './tap.js';
