/**
 * The legacy PC devices every vCPU thread sees: COM1 (16550A at 0x3f8, IRQ 4),
 * the i8042 controller (0x60/0x64; its reset line reboots the VM) and the
 * CMOS RTC (0x70/0x71, the host's time; Linux reads its clock from it). The
 * main thread creates them; each vCPU thread attaches its own view over the
 * same shared state and registers it on its own IoManager, so that their
 * port accesses are handled on the vCPU's thread.
 */
import { type IoManager, IrqFdEdgeInterrupt, PioRange, RawEventFd } from '@tsvmm/vm-device';
import {
  I8042_COMMAND_PORT,
  I8042_DATA_PORT,
  I8042Device,
  RTC_PORT_INDEX,
  RTC_PORT_SIZE,
  Rtc,
  SERIAL_PORT_COM1,
  SERIAL_PORT_SIZE,
  Serial,
  type SerialOutput,
  type SharedDeviceState,
} from '@tsvmm/vm-superio';

export const SERIAL_IRQ = 4;
export const KEYBOARD_IRQ = 1;

/** What a vCPU thread needs to attach (structured-clonable). */
export interface LegacyDevicesShared {
  serial: SharedDeviceState;
  i8042: SharedDeviceState;
  rtc: SharedDeviceState;
  /** eventfds registered as irqfds for IRQ 4 and IRQ 1 (fd numbers are process-wide). */
  serialIrqFd: number;
  keyboardIrqFd: number;
}

/** One thread's view of the legacy devices. */
export interface LegacyDevices {
  serial: Serial;
  i8042: I8042Device;
  rtc: Rtc;
}

export interface LegacyHooks {
  output: SerialOutput;
  onReset: () => void;
  log: (message: string) => void;
}

function register(io: IoManager, devices: LegacyDevices): void {
  io.registerPio(new PioRange(SERIAL_PORT_COM1, SERIAL_PORT_SIZE), devices.serial);
  io.registerPio(new PioRange(I8042_DATA_PORT, 1), devices.i8042);
  io.registerPio(new PioRange(I8042_COMMAND_PORT, 1), devices.i8042);
  io.registerPio(new PioRange(RTC_PORT_INDEX, RTC_PORT_SIZE), devices.rtc);
}

/** Creates the devices' state (main thread) and registers them on `io`. */
export function createLegacyDevices(
  io: IoManager,
  irqFds: { serial: number; keyboard: number },
  hooks: LegacyHooks,
): {
  devices: LegacyDevices;
  shared: LegacyDevicesShared;
} {
  const devices: LegacyDevices = {
    serial: new Serial({
      output: hooks.output,
      interrupt: new IrqFdEdgeInterrupt(new RawEventFd(irqFds.serial)),
      log: hooks.log,
    }),
    i8042: new I8042Device({
      onReset: hooks.onReset,
      keyboardInterrupt: new IrqFdEdgeInterrupt(new RawEventFd(irqFds.keyboard)),
      log: hooks.log,
    }),
    rtc: new Rtc({ log: hooks.log }),
  };
  register(io, devices);
  return {
    devices,
    shared: {
      serial: devices.serial.shared,
      i8042: devices.i8042.shared,
      rtc: devices.rtc.shared,
      serialIrqFd: irqFds.serial,
      keyboardIrqFd: irqFds.keyboard,
    },
  };
}

/** Attaches this thread's views of devices another thread created, and registers them on `io`. */
export function attachLegacyDevices(
  io: IoManager,
  shared: LegacyDevicesShared,
  hooks: LegacyHooks,
): LegacyDevices {
  const devices: LegacyDevices = {
    serial: Serial.attach(shared.serial, {
      output: hooks.output,
      interrupt: new IrqFdEdgeInterrupt(new RawEventFd(shared.serialIrqFd)),
      log: hooks.log,
    }),
    i8042: I8042Device.attach(shared.i8042, {
      onReset: hooks.onReset,
      keyboardInterrupt: new IrqFdEdgeInterrupt(new RawEventFd(shared.keyboardIrqFd)),
      log: hooks.log,
    }),
    rtc: Rtc.attach(shared.rtc, { log: hooks.log }),
  };
  register(io, devices);
  return devices;
}
