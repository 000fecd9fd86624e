export * from './address.js';
export * from './bus.js';
export type * from './device.js';
export * from './errors.js';
export * from './event-fd.js';
export * from './interrupt.js';
export * from './io-manager.js';
export * from './shared-lock.js';
