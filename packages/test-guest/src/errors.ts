/** The one error class of `@tsvmm/test-guest`. */

/** What went wrong, one code per failure. */
export type TestGuestErrorCode =
  /** gcc or ld failed on the guest's sources (the compiler's output is in the message). */
  | 'BUILD_FAILED'
  /** The VMM program could not be started. */
  | 'SPAWN_FAILED'
  /** The test network namespace, its TAP device or its peer could not be set up. */
  | 'NETWORK_SETUP_FAILED';

/** An error from `@tsvmm/test-guest`, with a `code` naming the failure and the `cause` where there is one. */
export class TestGuestError extends Error {
  /** What went wrong. */
  readonly code: TestGuestErrorCode;

  constructor(code: TestGuestErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TestGuestError';
    this.code = code;
  }
}
