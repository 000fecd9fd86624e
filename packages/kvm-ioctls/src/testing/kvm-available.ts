import { accessSync, constants } from 'node:fs';

/** Whether /dev/kvm can be opened read-write here; KVM tests are skipped (loudly, by the reporter) when not. */
export const kvmAvailable = (() => {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
})();
