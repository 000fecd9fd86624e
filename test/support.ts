import { ensureGuestKit, type GuestKit } from '@tsvmm/guest-kit';
import { createVm, finalizeConfig, type Vm, type VmConfig, type VmExit } from '@tsvmm/reference-vmm';

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

/** One boot of a guest, run to its end. */
export interface GuestBoot {
  vm: Vm;
  exit: VmExit;
  /** Everything the guest wrote to its serial console. */
  console: string;
}

/**
 * Creates a VM from `partial` (completed and checked by `finalizeConfig`),
 * runs it until it ends and collects its console output.
 */
export async function bootGuest(partial: Partial<VmConfig> & { kernel: string }): Promise<GuestBoot> {
  const vm = await createVm(finalizeConfig(partial));
  let console = '';
  vm.console.output.on('data', (chunk: Buffer) => {
    console += chunk.toString('latin1');
  });
  await vm.start();
  const exit = await vm.wait(); // resolves after the console stream has delivered every byte
  return { vm, exit, console };
}
