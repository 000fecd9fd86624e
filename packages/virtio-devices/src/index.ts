export * from './constants.js';
export type * from './device.js';
export * from './transport/registers.js';
