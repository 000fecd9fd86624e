import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isaInterruptAssignments,
  type MpInterrupt,
  mp_ExtINT,
  mp_INT,
  mp_NMI,
  writeMpTable,
} from '../src/index.js';
import { codeOf } from './support/errors.js';
import { changedRuns, guestRam, MiB, snapshot } from './support/memory.js';
import { findMpTable } from './support/spec-parsers.js';

describe('writeMpTable', () => {
  it('writes a table Linux finds at 0x9fc00 with the MP default ISA configuration', () => {
    const mem = guestRam([{ start: 0n, size: 2 * MiB }], 0);
    const layout = writeMpTable(mem, 0x9fc00n, { cpus: 4 });
    const t = findMpTable(mem)!;
    expect(t.floatingPointer).toBe(0x9fc00n);
    expect(t.configTable).toBe(0x9fc10n);
    expect(layout).toEqual({
      start: 0x9fc00n,
      end: 0x9fc10n + BigInt(t.length),
      floatingPointer: 0x9fc00n,
      configTable: 0x9fc10n,
    });
    expect(t.specRev).toBe(4);
    expect(t.features).toEqual([0, 0, 0, 0, 0]);
    expect(t.oemId).toBe('TSVMM   ');
    expect(t.localApicAddress).toBe(0xfee00000);
    expect(t.processors).toEqual(
      [0, 1, 2, 3].map((id) => ({
        apicId: id,
        apicVersion: 0x14,
        flags: id === 0 ? 3 : 1,
        signature: 0x600,
        features: 0x201,
      })),
    );
    expect(t.buses).toEqual([{ id: 0, type: 'ISA   ' }]);
    expect(t.ioapics).toEqual([{ id: 4, version: 0x11, flags: 1, address: 0xfec00000 }]);
    // MP spec 1.4, chapter 5: 8259A on INTIN0, IRQ0 on INTIN2, IRQ n on INTINn, IRQ2 (cascade) absent.
    const io = new Map(t.ioInterrupts.filter((i) => i.type === mp_INT).map((i) => [i.irq, i.pin]));
    expect(io.get(0)).toBe(2);
    expect(io.has(2)).toBe(false);
    for (const irq of [1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]) expect(io.get(irq)).toBe(irq);
    expect(t.ioInterrupts.filter((i) => i.type === mp_ExtINT).map((i) => i.pin)).toEqual([0]);
    expect(t.ioInterrupts.every((i) => i.bus === 0 && i.apicId === 4 && i.flags === 0)).toBe(true);
    expect(t.localInterrupts).toEqual([
      { type: mp_ExtINT, flags: 0, bus: 0, irq: 0, apicId: 0xff, pin: 0 },
      { type: mp_NMI, flags: 0, bus: 0, irq: 0, apicId: 0xff, pin: 1 },
    ]);
  });

  it('routes IRQ 0 to INTIN0 without an ExtINT entry when asked', () => {
    const ints = isaInterruptAssignments(1, 0).filter((i) => i.kind === 'io');
    expect(ints.find((i) => i.sourceBusIrq === 0)).toMatchObject({ type: mp_INT, destinationPin: 0 });
    expect(ints.some((i) => i.type === mp_ExtINT)).toBe(false);
    expect(ints).toHaveLength(15);
  });

  it('takes custom entries, ids and addresses, and writes only its own bytes', () => {
    const mem = guestRam([{ start: 0n, size: 2 * MiB }]);
    const before = snapshot(mem);
    const extra: MpInterrupt[] = [16, 17].map((irq) => ({
      kind: 'io',
      type: mp_INT,
      flags: 0xf,
      sourceBusId: 0,
      sourceBusIrq: irq,
      destinationId: 9,
      destinationPin: irq,
    }));
    const layout = writeMpTable(mem, 0xf0000n, {
      cpus: 2,
      ioapicId: 9,
      ioapicVersion: 0x20,
      ioapicAddress: 0xfec01000,
      localApicAddress: 0xfee01000,
      localApicVersion: 0x15,
      cpuSignature: 0x50654,
      featureFlags: 0x1234,
      interrupts: extra,
      oemId: 'OEMOEMOE',
      productId: 'PRODUCT12345',
    });
    const t = findMpTable(mem)!;
    expect(t.floatingPointer).toBe(0xf0000n);
    expect(t.oemId).toBe('OEMOEMOE');
    expect(t.productId).toBe('PRODUCT12345');
    expect(t.localApicAddress).toBe(0xfee01000);
    expect(t.processors.map((p) => [p.apicVersion, p.signature, p.features])).toEqual([
      [0x15, 0x50654, 0x1234],
      [0x15, 0x50654, 0x1234],
    ]);
    expect(t.ioapics).toEqual([{ id: 9, version: 0x20, flags: 1, address: 0xfec01000 }]);
    expect(t.ioInterrupts).toEqual(
      [16, 17].map((irq) => ({ type: 0, flags: 0xf, bus: 0, irq, apicId: 9, pin: irq })),
    );
    expect(t.localInterrupts).toEqual([]);
    expect(changedRuns(mem, before).every(([s, e]) => s >= layout.start && e <= layout.end)).toBe(true);
  });

  it('round-trips any CPU count and I/O APIC id', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 1, max: 254 })
          .chain((cpus) => fc.tuple(fc.constant(cpus), fc.integer({ min: cpus, max: 254 }))),
        fc.constantFrom<0 | 2>(0, 2),
        ([cpus, ioapicId], irq0Pin) => {
          const mem = guestRam([{ start: 0n, size: 0x100000 }], 0);
          writeMpTable(mem, 0x1000n, {
            cpus,
            ioapicId,
            interrupts: isaInterruptAssignments(ioapicId, irq0Pin),
          });
          const found = findMpTable(mem);
          expect(found).toBeUndefined(); // 0x1000 is not where Linux looks
          mem.writeSlice(0xf0000n, new Uint8Array(16)); // keep the scan honest: nothing there either
          writeMpTable(mem, 0xf0000n, {
            cpus,
            ioapicId,
            interrupts: isaInterruptAssignments(ioapicId, irq0Pin),
          });
          const t = findMpTable(mem)!;
          expect(t.processors.map((p) => p.apicId)).toEqual(Array.from({ length: cpus }, (_, i) => i));
          expect(t.processors.filter((p) => p.flags & 2).map((p) => p.apicId)).toEqual([0]);
          expect(t.ioapics.map((a) => a.id)).toEqual([ioapicId]);
          expect(t.ioInterrupts.find((i) => i.type === mp_INT && i.irq === 0)?.pin).toBe(irq0Pin);
        },
      ),
      { numRuns: 60 },
    );
  });

  it.each([
    ['255 CPUs', { cpus: 255 }, 'MPTABLE_INVALID'],
    ['an I/O APIC id among the CPUs', { cpus: 4, ioapicId: 3 }, 'MPTABLE_INVALID'],
    ['the broadcast id for the I/O APIC', { cpus: 4, ioapicId: 0xff }, 'MPTABLE_INVALID'],
  ])('refuses %s', (_name, options, code) => {
    const mem = guestRam([{ start: 0n, size: 2 * MiB }]);
    expect(codeOf(() => writeMpTable(mem, 0x9fc00n, options))).toBe(code);
  });

  it('refuses a table outside RAM or above 4 GiB, writing nothing', () => {
    const mem = guestRam([{ start: 0n, size: 0xa0000 }]);
    const before = snapshot(mem);
    expect(codeOf(() => writeMpTable(mem, 0x9ff00n, { cpus: 16 }))).toBe('BOOT_DATA_OUTSIDE_RAM');
    expect(codeOf(() => writeMpTable(mem, 0xffff_ff00n, { cpus: 16 }))).toBe('ADDRESS_ABOVE_4G');
    expect(changedRuns(mem, before)).toEqual([]);
  });

  it('rejects bad arguments with TypeError and RangeError', () => {
    const mem = guestRam([{ start: 0n, size: 2 * MiB }]);
    expect(() => writeMpTable(mem, 0x9fc08n, { cpus: 1 })).toThrow(RangeError);
    expect(() => writeMpTable(mem, 0x9fc00n, { cpus: 0 })).toThrow(RangeError);
    expect(() => writeMpTable(mem, 0x9fc00n, { cpus: 1.5 })).toThrow(RangeError);
    expect(() => writeMpTable(mem, 0x9fc00n, { cpus: 1, oemId: 'NINECHARS' })).toThrow(RangeError);
    expect(() => writeMpTable(mem, 0x9fc00n, { cpus: 1, productId: 'é' })).toThrow(RangeError);
    expect(() => writeMpTable(mem, 0x9fc00n, { cpus: 1, ioapicAddress: -1 })).toThrow(RangeError);
    const badKind = [{ kind: 'x' } as unknown as MpInterrupt];
    expect(() => writeMpTable(mem, 0x9fc00n, { cpus: 1, interrupts: badKind })).toThrow(TypeError);
    expect(() => writeMpTable(mem, 0x9fc00n, null as unknown as { cpus: number })).toThrow(TypeError);
    expect(() => writeMpTable(mem, 0x9fc00 as unknown as bigint, { cpus: 1 })).toThrow(TypeError);
  });
});
