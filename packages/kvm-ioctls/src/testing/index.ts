export * from './program.js';
export * from './test-vm.js';
