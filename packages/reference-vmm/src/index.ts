export { type BootPlan, loadGuest } from './boot.js';
export {
  type BootProtocol,
  DEFAULT_CMDLINE,
  DEFAULT_MEMORY_MIB,
  DEFAULT_VCPUS,
  type DriveConfig,
  finalizeConfig,
  type NetConfig,
  parseCommandLine,
  parseFirecrackerConfig,
  type VmConfig,
} from './config.js';
export { VmmError, type VmmErrorCode } from './errors.js';
export { EXIT_STATUS, EXIT_STATUS_USAGE, type VmExit, type VmExitReason } from './exit.js';
export * from './layout.js';
export { createVm, type Vm, type VmConsole, type VmMetrics, type VmOptions } from './vm.js';
