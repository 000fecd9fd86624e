export { GuestKitError, type GuestKitErrorCode } from './error.js';
export {
  defaultCacheDir,
  ensureGuestKit,
  findGuestKit,
  type GuestKit,
  type GuestKitOptions,
} from './guest-kit.js';
export {
  COMMAND_LINE_SIZE,
  GUEST_BOOT_MARKER,
  GUEST_KERNEL_CMDLINE,
  GUEST_RUN_BEGIN_MARKER,
  GUEST_RUN_END_MARKER,
  GUEST_SHELL_MARKER,
  type GuestRunResult,
  guestRunParam,
  parseGuestRun,
} from './guest-protocol.js';
export type { KitInputs } from './inputs.js';
export {
  formatOutputs,
  type GuestKitManifest,
  type GuestKitOutput,
  type GuestKitOutputName,
  type GuestKitStep,
  OUTPUT_FILES,
  type OutputMismatch,
  verifyKit,
} from './manifest.js';
