export * from './errors.js';
export * from './i8042.js';
export * from './rtc.js';
export * from './serial.js';
export * from './serial-registers.js';
export type { DeviceLog, SharedDeviceState } from './shared-state.js';
