export * from './kvm-available.js';
export * from './program.js';
export * from './test-vm.js';
