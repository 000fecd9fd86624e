/** The C baseline runs the test guest like the VMMs do, and ends the same ways. */
import { accessSync, constants } from 'node:fs';
import { testGuestCmdline } from '@tsvmm/test-guest';
import { describe, expect, it } from 'vitest';
import { C_VMM_DONE, runCVmm } from '../src/index.js';

const kvm = (() => {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!kvm)('the C baseline', () => {
  it('runs the exit loops and ends with the guest’s reset', async () => {
    const run = await runCVmm(testGuestCmdline({ work: ['pio', 'mmio'], exits: 200 }), 64);
    expect(run.exitCode, run.console + run.stderr).toBe(C_VMM_DONE);
    expect(run.result?.status).toBe('ok');
    expect(run.result?.results.map((w) => [w.work, w.ops, w.ns > 0])).toEqual([
      ['pio', 200, true],
      ['mmio', 200, true],
    ]);
    // Unclaimed MMIO reads float high, as on the reference VMM: 200 warm-up and 200 timed reads of 0xffffffff.
    expect(run.result?.results[1]?.note).toBe(`reads sum to 0x${((400 * 0xffffffff) >>> 0).toString(16)}`);
  });

  it('reports a triple fault with status 5', async () => {
    const run = await runCVmm(testGuestCmdline({ work: ['mmio'], mmioAddress: 0 }), 64);
    expect(run.exitCode).toBe(5);
    expect(run.result?.status).toBe('fault');
  });
});
