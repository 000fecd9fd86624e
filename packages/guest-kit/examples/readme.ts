import { ensureGuestKit, formatOutputs, guestRunParam } from '@tsvmm/guest-kit';

// The kit for the current inputs: from the cache, or built into it (about 8 minutes on 2 cores).
const kit = await ensureGuestKit();
console.log(formatOutputs(kit.manifest)); // each output's role, file, size and SHA-256

// Boot kit.vmlinux (PVH) or kit.bzImage with kit.initramfs on this command line: the guest
// runs the script, prints its output between two marker lines and resets the VM.
console.log(`${kit.cmdline} ${guestRunParam('uname -r; exit 3')}`);
