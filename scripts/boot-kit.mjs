#!/usr/bin/env node
// Boots the guest kit's kernel and initramfs with the reference VMM, to an
// interactive shell on this terminal (Ctrl-A x quits; `poweroff -f` in the
// guest powers it off). Extra arguments go to reference-vmm, e.g. --vcpus 2.
// Run through `./dev boot`, which installs and builds everything first.
import { findGuestKit } from '@tsvmm/guest-kit';
import { main } from '@tsvmm/reference-vmm/cli';

const kit = await findGuestKit();
if (kit === undefined) {
  process.stderr.write(
    'boot-kit: the guest kit is not built yet: run `pnpm guest:build` (./dev boot does)\n',
  );
  process.exit(1);
}
process.exit(await main(['--kernel', kit.vmlinux, '--initrd', kit.initramfs, ...process.argv.slice(2)]));
