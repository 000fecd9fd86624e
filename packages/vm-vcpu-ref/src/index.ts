export * from './boot-cpu.js';
export * from './cpuid.js';
export * from './gdt.js';
export * from './lapic.js';
export * from './msr.js';
export * from './paging.js';
export * from './vcpu-setup.js';
