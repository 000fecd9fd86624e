/**
 * The conformance checks the test guest makes (conformance.c), by device
 * type. A test asserts that each of them ran and passed, so a check that
 * stops running is noticed as surely as one that fails.
 */
export const TRANSPORT_CHECKS = [
  'version-2',
  'device-id',
  'reset-reads-zero',
  'status-acknowledge',
  'status-driver',
  'offers-version-1',
  'features-stable',
  'features-ok-kept',
  'config-generation-stable',
  'queue-num-max',
  'queue-ready-after-reset',
  'queue-absent',
] as const;

const INTERRUPT_CHECKS = [
  'queue-ready',
  'interrupt-request-done',
  'interrupt-status-used',
  'interrupt-ack-clears',
  'reset-clears-interrupt',
  'reset-clears-queue-ready',
] as const;

export const DEVICE_CHECKS = {
  blk: [
    'capacity',
    'read-status',
    'read-used-len',
    'read-data',
    'read-split-descriptors',
    'write-status',
    'write-used-len',
    'write-read-back',
    'flush-status',
    'flush-used-len',
    'read-past-end-ioerr',
    'read-across-end-ioerr',
    'unknown-type-unsupp',
    'get-id-status',
    'get-id-serial',
    'works-after-bad-requests',
    'no-bad-used-entries',
    ...INTERRUPT_CHECKS,
  ],
  rng: [...INTERRUPT_CHECKS, 'used-len', 'index-wrap'],
  net: [
    'has-mac',
    'tx-done',
    'tx-used-len',
    'rx-done',
    'rx-used-len',
    'rx-hdr-flags',
    'rx-hdr-gso-none',
    'no-bad-used-entries',
  ],
} as const;

/** The check ids a run over these devices must report, e.g. `blk0.read-used-len`. */
export function expectedChecks(devices: readonly (keyof typeof DEVICE_CHECKS)[]): string[] {
  return devices.flatMap((type) =>
    [...TRANSPORT_CHECKS, ...DEVICE_CHECKS[type]].map((name) => `${type}0.${name}`),
  );
}
