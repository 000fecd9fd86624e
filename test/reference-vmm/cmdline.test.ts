/**
 * The reference VMM's default kernel command line and the one the guest kit
 * recommends are written down in two packages (the VMM must not depend on the
 * kit). This keeps them from drifting apart.
 */
import { GUEST_KERNEL_CMDLINE } from '@tsvmm/guest-kit';
import { DEFAULT_CMDLINE } from '@tsvmm/reference-vmm';
import { describe, expect, it } from 'vitest';

const words = (cmdline: string) => new Set(cmdline.split(/\s+/).filter((w) => w.length > 0));

describe('the default kernel command line', () => {
  it('has every option the guest kit needs on this project’s hosts', () => {
    const missing = [...words(GUEST_KERNEL_CMDLINE)].filter((w) => !words(DEFAULT_CMDLINE).has(w));
    expect(missing).toEqual([]);
  });

  it('adds only what the VMM itself relies on', () => {
    const extra = [...words(DEFAULT_CMDLINE)].filter((w) => !words(GUEST_KERNEL_CMDLINE).has(w));
    // reboot=k: the VMM sees reboots through the i8042 reset line
    expect(extra.every((w) => w === 'reboot=k')).toBe(true);
  });
});
