/** Helpers for the test guest's own KVM tests. */
import { accessSync, constants, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Whether this machine can run KVM guests; KVM test files skip (loudly, see the reporter) otherwise. */
export const kvmAvailable: boolean = (() => {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
})();

/** A fresh temporary folder. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Both VMMs, for `describe.each`. */
export const VMMS = ['reference', 'qemu'] as const;
