/**
 * `IoManager`: dispatches the port I/O and MMIO exits of a vCPU to devices.
 *
 * One `IoManager` per thread: each vCPU worker builds its own and registers
 * its own device objects (which share their state with the other threads'
 * objects, see `SharedLock`). Dispatch is on the exit path and allocates
 * nothing; its outcome is a returned {@link IoResult}, never an exception,
 * because unclaimed ports are ordinary on x86 (Linux probes for hardware that
 * is not there, and writes port 0x80 as an I/O delay).
 *
 * What a VMM should do with a result other than `'OK'`: count it, and for a
 * read fill `data` with all ones (`data.fill(0xff)`), which is what an x86
 * machine returns for a port or address no device decodes; ignore a write.
 * {@link ioError} turns a result into a {@link VmDeviceError} for callers that
 * prefer to throw.
 */
import type { MmioAddress, MmioRange, PioAddress, PioRange } from './address.js';
import { MmioBus, PioBus } from './bus.js';
import type { DeviceMmio, DevicePio } from './device.js';
import { VmDeviceError } from './errors.js';

/**
 * The outcome of one dispatched access: `'OK'`, or the {@link VmDeviceError}
 * code of why no device handled it.
 */
export type IoResult = 'OK' | 'NO_DEVICE' | 'BAD_ACCESS_LENGTH';

/** Routes port I/O and MMIO accesses to the devices registered on its two buses. */
export class IoManager {
  /** The port I/O bus; register through {@link IoManager.registerPio} or directly. */
  readonly pio = new PioBus<DevicePio>();
  /** The MMIO bus; register through {@link IoManager.registerMmio} or directly. */
  readonly mmio = new MmioBus<DeviceMmio>();

  /**
   * Registers a port I/O device.
   * @throws VmDeviceError `OVERLAP`
   */
  registerPio(range: PioRange, device: DevicePio): void {
    this.pio.register(range, device);
  }

  /**
   * Removes the port I/O device whose range starts at `base`; returns it.
   * @throws VmDeviceError `NOT_REGISTERED`
   */
  deregisterPio(base: PioAddress): DevicePio {
    return this.pio.deregister(base).device;
  }

  /**
   * Registers an MMIO device.
   * @throws VmDeviceError `OVERLAP`
   */
  registerMmio(range: MmioRange, device: DeviceMmio): void {
    this.mmio.register(range, device);
  }

  /**
   * Removes the MMIO device whose range starts at `base`; returns it.
   * @throws VmDeviceError `NOT_REGISTERED`
   */
  deregisterMmio(base: MmioAddress): DeviceMmio {
    return this.mmio.deregister(base).device;
  }

  /**
   * Dispatches an `in` of `data.length` (1, 2 or 4) bytes from `port`; the
   * device fills `data`. On a result other than `'OK'`, `data` is untouched.
   */
  pioRead(port: PioAddress, data: Uint8Array): IoResult {
    return this.#pio(port, data, false);
  }

  /** Dispatches an `out` of `data.length` (1, 2 or 4) bytes to `port`. */
  pioWrite(port: PioAddress, data: Uint8Array): IoResult {
    return this.#pio(port, data, true);
  }

  /**
   * Dispatches a load of `data.length` (1, 2, 4 or 8) bytes from `address`
   * (a number avoids a bigint conversion); the device fills `data`.
   */
  mmioRead(address: MmioAddress | number, data: Uint8Array): IoResult {
    return this.#mmio(address, data, false);
  }

  /** Dispatches a store of `data.length` (1, 2, 4 or 8) bytes to `address`. */
  mmioWrite(address: MmioAddress | number, data: Uint8Array): IoResult {
    return this.#mmio(address, data, true);
  }

  #pio(port: PioAddress, data: Uint8Array, write: boolean): IoResult {
    const entry = this.pio.find(port);
    if (entry === undefined) return 'NO_DEVICE';
    const len = data.length;
    if ((len !== 1 && len !== 2 && len !== 4) || port + len - 1 > entry.last) return 'BAD_ACCESS_LENGTH';
    if (write) entry.device.pioWrite(entry.range.base, port - entry.base, data);
    else entry.device.pioRead(entry.range.base, port - entry.base, data);
    return 'OK';
  }

  #mmio(address: MmioAddress | number, data: Uint8Array, write: boolean): IoResult {
    const entry = this.mmio.find(address);
    if (entry === undefined) return 'NO_DEVICE';
    const offset = Number(address) - entry.base;
    const len = data.length;
    if ((len !== 1 && len !== 2 && len !== 4 && len !== 8) || entry.base + offset + len - 1 > entry.last)
      return 'BAD_ACCESS_LENGTH';
    if (write) entry.device.mmioWrite(entry.range.base, offset, data);
    else entry.device.mmioRead(entry.range.base, offset, data);
    return 'OK';
  }
}

/**
 * The {@link VmDeviceError} for a failed dispatch, for callers that throw
 * instead of counting.
 * @param result - a result other than `'OK'`
 * @param space - `'pio'` or `'mmio'`, for the message
 * @param address - the accessed port or address
 * @param length - the access size in bytes
 */
export function ioError(
  result: Exclude<IoResult, 'OK'>,
  space: 'pio' | 'mmio',
  address: number | bigint,
  length: number,
): VmDeviceError {
  const where = `${space === 'pio' ? 'port' : 'MMIO address'} 0x${address.toString(16)}`;
  return result === 'NO_DEVICE'
    ? new VmDeviceError('NO_DEVICE', `no device at ${where}`)
    : new VmDeviceError('BAD_ACCESS_LENGTH', `bad ${length}-byte access at ${where}`);
}
