import { ensureGuestKit, type GuestKit } from '@tsvmm/guest-kit';

/** Whether this machine can run KVM guests; tests skip (loudly, see the reporter) otherwise. */
export { kvmAvailable } from '@tsvmm/kvm-ioctls/testing';

let kit: Promise<GuestKit> | undefined;
/** The guest kit, built or taken from its cache (./dev test builds it before the tests). */
export function guestKit(): Promise<GuestKit> {
  kit ??= ensureGuestKit({ installPackages: false });
  return kit;
}

/** Linux boots take tens of seconds here: guest kernel code is interpreted (see DESIGN.md). */
export const BOOT_TIMEOUT_MS = 420_000;
