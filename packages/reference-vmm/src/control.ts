/**
 * The words the main thread and the vCPU threads share about the VM as a
 * whole (one SharedArrayBuffer, Int32 words, always accessed with Atomics).
 */

/** Word indices. */
export const CONTROL = {
  /** 1 once the console showed a kernel panic line (a reset after it is a panic, not a reboot). */
  panicSeen: 0,
  /** Per-vCPU probe answers start here: one word per vCPU. */
  probeBase: 8,
} as const;

/** Probe answers. */
export const PROBE = {
  /** Not answered yet (the slot is cleared before each probe). */
  pending: 0,
  /** Running, or halted with interrupts enabled: it may still do something. */
  alive: 1,
  /**
   * Can never run again by itself: halted with interrupts disabled, or an
   * application processor waiting for an INIT/SIPI nobody will send.
   */
  dead: 2,
} as const;

export function createControl(vcpus: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer((CONTROL.probeBase + vcpus) * 4));
}
