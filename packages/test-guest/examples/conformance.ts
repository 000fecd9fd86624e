import { runGuest, testGuestCmdline } from '../src/index.js';

/** Runs the virtio conformance checks against a VMM's virtio-rng; returns the checks that failed. */
export async function rngConformance(vmm: 'reference' | 'qemu'): Promise<string[]> {
  const run = await runGuest({ vmm, cmdline: testGuestCmdline({ work: ['conformance', 'rng'] }), rng: true });
  if (run.ended !== 'done' || run.result === undefined)
    throw new Error(`the guest did not finish:\n${run.console}`);
  return run.result.checks.filter((c) => !c.ok).map((c) => `${c.id}: ${c.message}`);
}
