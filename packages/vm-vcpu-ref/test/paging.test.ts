import { GuestMemoryArrayBuffer } from '@tsvmm/vm-memory';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pageTableBytes, writeIdentityMap } from '../src/paging.js';

/** A 4-level walk written from the SDM (§4.5), independent of the writer. */
function translate(mem: GuestMemoryArrayBuffer, cr3: bigint, linear: bigint): bigint | undefined {
  const entry = (table: bigint, index: bigint) => mem.readU64((table & ~0xfffn) + index * 8n);
  const pml4e = entry(cr3, (linear >> 39n) & 0x1ffn);
  if (!(pml4e & 1n)) return undefined;
  const pdpte = entry(pml4e & 0xffffffffff000n, (linear >> 30n) & 0x1ffn);
  if (!(pdpte & 1n)) return undefined;
  const pde = entry(pdpte & 0xffffffffff000n, (linear >> 21n) & 0x1ffn);
  if (!(pde & 1n)) return undefined;
  expect(pde & 0x80n).toBe(0x80n); // 2 MiB page
  return (pde & 0xfffffffe00000n) | (linear & 0x1fffffn);
}

describe('identity map', () => {
  const mem = GuestMemoryArrayBuffer.fromRanges([{ start: 0n, size: 1 << 20 }]);
  const cr3 = writeIdentityMap(mem, { base: 0x9000n });

  it('maps every address below 4 GiB to itself, writable', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }), (addr) => {
        expect(translate(mem, cr3, addr)).toBe(addr);
      }),
    );
    expect(mem.readU64(0x9000n) & 3n).toBe(3n);
  });

  it('maps nothing at 4 GiB and above', () => {
    expect(translate(mem, cr3, 1n << 32n)).toBeUndefined();
  });

  it('takes PML4 + PDPT + one directory per GiB', () => {
    expect(pageTableBytes(4)).toBe(6 * 4096);
    expect(pageTableBytes(1)).toBe(3 * 4096);
  });

  it('refuses a misaligned base, a bad size and memory that is not there', () => {
    expect(() => writeIdentityMap(mem, { base: 0x9001n })).toThrow(RangeError);
    expect(() => writeIdentityMap(mem, { base: 0x9000n, gib: 0 })).toThrow(RangeError);
    expect(() => writeIdentityMap(mem, { base: 0xff000n })).toThrow(
      expect.objectContaining({ code: 'PARTIAL_BUFFER' }),
    );
  });
});
