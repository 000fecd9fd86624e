/**
 * A block device from the VMM's main thread to its I/O thread: the main
 * thread opens the image (so that a missing or unwritable disk fails before
 * the VM starts) and describes the device with a {@link VirtioDeviceSpec};
 * the I/O thread builds it with {@link createBlock} over the same file
 * descriptor.
 */
import type { VirtioDeviceSpec } from '../device.js';
import { builtModuleUrl } from '../io-thread/module-url.js';
import { Block, blockDeviceInfo, blockSerialId } from './device.js';
import { DiskImage, type DiskImageDescriptor } from './disk-image.js';

/** A disk as the VMM's user describes it. */
export interface BlockDiskOptions {
  /** The raw image file. */
  path: string;
  /** Attach it read-only (opened `O_RDONLY`; VIRTIO_BLK_F_RO). Default false. */
  readOnly?: boolean;
  /** The id the guest reads with GET_ID: printable ASCII, at most 20 bytes. Default empty. */
  serial?: string;
  /** Request queue size, a power of two in 4..32768; default 256. */
  queueSize?: number;
}

/** The structured-clonable options {@link createBlock} takes on the I/O thread. */
export interface BlockFactoryOptions {
  /** The image the main thread opened. */
  readonly disk: DiskImageDescriptor;
  /** The GET_ID serial. */
  readonly serial: string;
  /** Request queue size. */
  readonly queueSize?: number;
}

/**
 * Opens a disk image and describes its block device for the I/O thread.
 * The spec holds the open file descriptor: pass it to the transport, or
 * close it with {@link closeBlockDeviceSpec} if the VM is not started.
 * @throws TypeError/RangeError for bad options (before the file is opened);
 *   VirtioDevicesError `BACKEND_OPEN` when the image cannot be opened
 *   (ENOENT, EACCES, EROFS…) or is not a regular file.
 */
export function blockDeviceSpec(options: BlockDiskOptions): VirtioDeviceSpec<BlockFactoryOptions> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const serial = options.serial ?? '';
  blockSerialId(serial);
  const readOnly = options.readOnly ?? false;
  const queueSize = options.queueSize;
  // Checks the queue size before anything is opened.
  blockDeviceInfo({ capacity: 0n, readOnly, ...(queueSize === undefined ? {} : { queueSize }) });
  const disk = DiskImage.open(options.path, { readOnly });
  const info = blockDeviceInfo({
    capacity: disk.capacity,
    readOnly,
    ...(queueSize === undefined ? {} : { queueSize }),
  });
  return {
    info,
    module: builtModuleUrl('./spec.js', import.meta.url),
    factory: 'createBlock',
    options: { disk: disk.toDescriptor(), serial, ...(queueSize === undefined ? {} : { queueSize }) },
  };
}

/** Closes the image a {@link blockDeviceSpec} opened, for a VM that never started. */
export function closeBlockDeviceSpec(spec: VirtioDeviceSpec<BlockFactoryOptions>): void {
  DiskImage.fromDescriptor(spec.options.disk).close();
}

/**
 * The device factory the I/O thread calls with a spec's options (a
 * `VirtioDeviceFactory`).
 * @throws TypeError/RangeError for options that are not a {@link BlockFactoryOptions}.
 */
export function createBlock(options: BlockFactoryOptions): Block {
  const disk = DiskImage.fromDescriptor(options.disk);
  return new Block(disk, {
    serial: options.serial,
    ...(options.queueSize === undefined ? {} : { queueSize: options.queueSize }),
  });
}
