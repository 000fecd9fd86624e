// Boots a kernel with createVm() and waits for it to end.
import { createVm, finalizeConfig } from '@tsvmm/reference-vmm';

export async function boot(kernel: string, initrd?: string): Promise<string> {
  const config = finalizeConfig({
    kernel,
    ...(initrd === undefined ? {} : { initrd }),
    vcpus: 1,
    memoryMiB: 128,
  });
  const vm = await createVm(config);
  vm.console.output.pipe(process.stdout);
  await vm.start();
  const exit = await vm.wait(); // { reason: 'poweroff' | 'reboot' | 'panic' | ..., message }
  return exit.reason;
}
