/** How the VMM's main thread describes a virtio-rng device to the I/O thread. */
import type { VirtioDeviceSpec } from '../device.js';
import { builtModuleUrl } from '../io-thread/module-url.js';
import { RNG_DEVICE_INFO } from './device.js';

/** The spec of a virtio-rng device: no backend to open, the host's random source is always there. */
export function rngDeviceSpec(): VirtioDeviceSpec<null> {
  return {
    info: RNG_DEVICE_INFO,
    module: builtModuleUrl('./device.js', import.meta.url),
    factory: 'createRngDevice',
    options: null,
  };
}
