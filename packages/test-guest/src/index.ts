export {
  type BuildOptions,
  buildTestGuest,
  TEST_GUEST_BUILD_DIR,
  TEST_GUEST_CFLAGS,
  TEST_GUEST_SOURCE_DIR,
  type TestGuestBuild,
  testGuestPath,
} from './build.js';
export {
  type BlockSettings,
  type NetSettings,
  TEST_GUEST_WORKLOADS,
  type TestGuestSettings,
  type TestGuestWorkload,
  testGuestCmdline,
} from './cmdline.js';
export {
  checkPatternImage,
  fillPattern,
  findPatternMismatch,
  patternWord,
  writePatternImage,
} from './disk-image.js';
export { TestGuestError, type TestGuestErrorCode } from './errors.js';
export { createTestNetwork, TEST_NETWORK, type TestNetwork, type TestNetworkOptions } from './network.js';
export { checkPayload, makePayload, type NetPeerStats } from './peer-protocol.js';
export {
  type ConformanceCheck,
  ENTRY_LINE,
  type GuestDevice,
  type GuestFault,
  IDLE_LINE,
  parseTestGuestResult,
  RESULT_PREFIX,
  type TestGuestResult,
  type WorkResult,
} from './result.js';
export {
  DEBUG_EXIT,
  DONE_STATUS,
  type GuestRun,
  type GuestRunEnd,
  type GuestRunOptions,
  QEMU_BIN,
  qemuArgs,
  REFERENCE_VMM_BIN,
  referenceVmmArgs,
  runGuest,
  SHUTDOWN_STATUS,
  type VmmKind,
  vmmCommand,
} from './vmm.js';
