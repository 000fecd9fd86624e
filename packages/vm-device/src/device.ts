/**
 * What a device implements to sit on a bus.
 *
 * `data` is a view of the exit's data area (for KVM, inside `kvm_run`): a read
 * fills it in place, a write reads it; its length is the access size. The
 * view is only valid during the call. A device must not throw for anything
 * the guest does (an unknown offset, an odd size): it counts the access,
 * ignores it and, for a read, answers something defined (usually zeros).
 */
import type { MmioAddress, PioAddress } from './address.js';

/** A device on the port I/O bus. */
export interface DevicePio {
  /**
   * A guest `in` from port `base + offset`.
   * @param base - the base of the range the device was registered on
   * @param offset - the port's offset in that range
   * @param data - 1, 2 or 4 bytes to fill (little-endian)
   */
  pioRead(base: PioAddress, offset: number, data: Uint8Array): void;
  /**
   * A guest `out` to port `base + offset`.
   * @param data - the 1, 2 or 4 bytes written (little-endian)
   */
  pioWrite(base: PioAddress, offset: number, data: Uint8Array): void;
}

/** A device on the MMIO bus. */
export interface DeviceMmio {
  /**
   * A guest load from `base + offset`.
   * @param base - the base of the range the device was registered on
   * @param offset - the byte offset in that range
   * @param data - 1, 2, 4 or 8 bytes to fill (little-endian)
   */
  mmioRead(base: MmioAddress, offset: number, data: Uint8Array): void;
  /**
   * A guest store to `base + offset`.
   * @param data - the 1, 2, 4 or 8 bytes stored (little-endian)
   */
  mmioWrite(base: MmioAddress, offset: number, data: Uint8Array): void;
}
