/**
 * A network device from the VMM's main thread to its I/O thread: the main
 * thread opens the TAP (so that a missing, busy or forbidden TAP fails before
 * the VM starts) and settles the MAC address (the transport shows it in the
 * configuration space before the device exists), and describes the device
 * with a {@link VirtioDeviceSpec}; the I/O thread builds it with
 * {@link createNet} over the same file descriptor.
 */
import { close } from '@tsvmm/vmm-sys-util';
import type { VirtioDeviceSpec } from '../device.js';
import { builtModuleUrl } from '../io-thread/module-url.js';
import { Net, netDeviceInfo } from './device.js';
import { formatMac, parseMac, randomMac } from './mac.js';
import { checkInterfaceName, Tap } from './tap.js';

/** A network interface as the VMM's user describes it. */
export interface NetTapOptions {
  /** The TAP device's name in the VMM's network namespace. */
  tap: string;
  /** The guest's MAC address, `02:00:00:00:00:01`; default a random locally administered one. */
  mac?: string;
  /** Create the TAP if there is none of that name (see {@link TapOpenOptions.create}); default false. */
  create?: boolean;
  /** Size of each queue, a power of two in 2..32768; default 256. */
  queueSize?: number;
}

/** The structured-clonable options {@link createNet} takes on the I/O thread. */
export interface NetFactoryOptions {
  /** The TAP file the main thread opened and configured. */
  readonly tapFd: number;
  /** Its interface name. */
  readonly tapName: string;
  /** The guest's MAC address. */
  readonly mac: string;
  /** Queue size. */
  readonly queueSize?: number;
}

/**
 * Opens the TAP and describes its network device for the I/O thread. The
 * spec holds the open file descriptor: pass it to the transport, or close
 * it with {@link closeNetDeviceSpec} if the VM is not started.
 * @throws TypeError/RangeError for bad options (before the TAP is opened);
 *   VirtioDevicesError `BACKEND_OPEN` when the TAP cannot be opened (see {@link Tap.open}).
 */
export function netDeviceSpec(options: NetTapOptions): VirtioDeviceSpec<NetFactoryOptions> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  checkInterfaceName(options.tap);
  const mac = formatMac(options.mac === undefined ? randomMac() : parseMac(options.mac));
  const queueSize = options.queueSize;
  const info = netDeviceInfo({ mac, ...(queueSize === undefined ? {} : { queueSize }) });
  const tap = Tap.open(options.tap, { create: options.create ?? false });
  return {
    info,
    module: builtModuleUrl('./spec.js', import.meta.url),
    factory: 'createNet',
    options: { tapFd: tap.fd, tapName: tap.name, mac, ...(queueSize === undefined ? {} : { queueSize }) },
  };
}

/** Closes the TAP a {@link netDeviceSpec} opened, for a VM that never started (a TAP it created goes away). */
export function closeNetDeviceSpec(spec: VirtioDeviceSpec<NetFactoryOptions>): void {
  close(spec.options.tapFd);
}

/**
 * The device factory the I/O thread calls with a spec's options (a
 * `VirtioDeviceFactory`); the device owns the TAP file from then on.
 * @throws TypeError/RangeError for options that are not a {@link NetFactoryOptions}.
 */
export function createNet(options: NetFactoryOptions): Net {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  return new Net(new Tap(options.tapFd, options.tapName), {
    mac: options.mac,
    ...(options.queueSize === undefined ? {} : { queueSize: options.queueSize }),
  });
}
