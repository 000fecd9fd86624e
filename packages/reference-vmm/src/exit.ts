/** How a VM ended, and the reference-vmm program's exit status for it. */

export type VmExitReason =
  | 'poweroff'
  | 'reboot'
  | 'panic'
  | 'shutdown'
  | 'internal-error'
  | 'stopped'
  | 'error';

export interface VmExit {
  reason: VmExitReason;
  /** One line for a person. */
  message: string;
  /** Which vCPU ended it, when one did. */
  vcpu?: number;
  /** Structured details (KVM's internal error data, the cause of an error). */
  detail?: unknown;
}

/** Exit statuses of the program, one per reason (USAGE errors exit 2 before a VM exists). */
export const EXIT_STATUS: Record<Exclude<VmExitReason, 'stopped'>, number> = {
  poweroff: 0,
  error: 1,
  reboot: 3,
  panic: 4,
  shutdown: 5,
  'internal-error': 6,
};

export const EXIT_STATUS_USAGE = 2;
