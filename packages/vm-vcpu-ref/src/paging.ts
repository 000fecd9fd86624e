/**
 * Identity-mapped page tables for the 64-bit boot entry: the Linux boot
 * protocol enters the kernel in long mode with the kernel, the zero page and
 * the command line identity-mapped. These tables map the first `gib` GiB
 * with 2 MiB pages: one PML4 page, one PDPT page, one page directory per GiB.
 */
import type { GuestMemory } from '@tsvmm/vm-memory';

const PRESENT = 1n;
const WRITABLE = 2n;
const PAGE_SIZE_2M = 0x80n; // PS bit in a page-directory entry
const PAGE = 0x1000n;

/** Where the tables go: `base` is a page-aligned guest address with `pageTableBytes(gib)` free bytes. */
export interface IdentityMapOptions {
  base: bigint;
  /** How many GiB from address 0 to map, 1 to 512. Default 4 (everything below the 32-bit boundary). */
  gib?: number;
}

/** The bytes the tables for `gib` GiB occupy: PML4 + PDPT + one PD per GiB. */
export function pageTableBytes(gib = 4): number {
  return (2 + gib) * 4096;
}

/**
 * Writes the tables into guest memory and returns the value for CR3 (the
 * PML4's address). @throws RangeError for a misaligned base or a bad size.
 */
export function writeIdentityMap(mem: GuestMemory, options: IdentityMapOptions): bigint {
  const gib = options.gib ?? 4;
  if (!Number.isInteger(gib) || gib < 1 || gib > 512) throw new RangeError(`gib must be 1..512, got ${gib}`);
  const { base } = options;
  if (typeof base !== 'bigint' || base < 0n || base % PAGE !== 0n)
    throw new RangeError('base must be a page-aligned bigint');
  const pml4 = base;
  const pdpt = base + PAGE;
  const pd0 = base + 2n * PAGE;
  const tables = new Uint8Array(pageTableBytes(gib));
  const view = new DataView(tables.buffer);
  view.setBigUint64(0, pdpt | PRESENT | WRITABLE, true);
  for (let g = 0; g < gib; g++) {
    view.setBigUint64(4096 + g * 8, (pd0 + BigInt(g) * PAGE) | PRESENT | WRITABLE, true);
    for (let i = 0; i < 512; i++) {
      const phys = (BigInt(g) << 30n) | (BigInt(i) << 21n);
      view.setBigUint64(8192 + g * 4096 + i * 8, phys | PRESENT | WRITABLE | PAGE_SIZE_2M, true);
    }
  }
  mem.writeSlice(base, tables);
  return pml4;
}
