import { describe, expect, it } from 'vitest';
import {
  AddressAllocator,
  DeviceResources,
  IdAllocator,
  MmioRange,
  PioRange,
  ResourceAllocator,
  VmDeviceError,
} from '../src/index.js';

const machine = () => ({
  pio: new AddressAllocator(0n, 0x10000n),
  mmio: new AddressAllocator(0xd000_0000n, 0x1000_0000n),
  legacyIrq: new IdAllocator(5, 23),
  gsi: new IdAllocator(24, 63),
});

describe('ResourceAllocator', () => {
  it('places fixed and free resources and reports them by kind', () => {
    const alloc = new ResourceAllocator(machine());
    const serial = alloc.allocate([
      { type: 'pio', size: 8, at: 0x3f8 },
      { type: 'legacy-irq', at: 5 },
    ]);
    expect(serial.pioRanges).toEqual([new PioRange(0x3f8, 8)]);
    expect(serial.legacyIrqs).toEqual([5]);
    const virtio = alloc.allocate([
      { type: 'mmio', size: 0x1000n, align: 0x1000n },
      { type: 'mmio', size: 0x1000n, align: 0x1000n, policy: 'last-fit' },
      { type: 'legacy-irq' },
      { type: 'gsi', policy: 'last-fit' },
    ]);
    expect(virtio.mmioRanges).toEqual([
      new MmioRange(0xd000_0000n, 0x1000n),
      new MmioRange(0xdfff_f000n, 0x1000n),
    ]);
    expect(virtio.legacyIrqs).toEqual([6]);
    expect(virtio.gsis).toEqual([63]);
    expect(virtio.all).toHaveLength(4);
    expect(serial.gsis).toEqual([]);
    expect(serial.mmioRanges).toEqual([]);
  });

  it('takes nothing when one constraint cannot be met', () => {
    const m = machine();
    const alloc = new ResourceAllocator(m);
    alloc.allocate([{ type: 'legacy-irq', at: 9 }]);
    expect(() =>
      alloc.allocate([
        { type: 'pio', size: 8, at: 0x2f8 },
        { type: 'mmio', size: 0x100n },
        { type: 'legacy-irq', at: 9 },
      ]),
    ).toThrow(expect.objectContaining({ code: 'OVERLAP' }));
    expect(m.pio.freeRanges().map(String)).toEqual(['0x0..0xffff']);
    expect(m.mmio.freeRanges()).toHaveLength(1);
  });

  it('frees what it allocated, and only that', () => {
    const m = machine();
    const alloc = new ResourceAllocator(m);
    const r = alloc.allocate([
      { type: 'pio', size: 2, at: 0x70 },
      { type: 'mmio', size: 0x200n },
      { type: 'legacy-irq' },
      { type: 'gsi' },
    ]);
    alloc.free(r);
    expect(m.legacyIrq.isAllocated(5) || m.gsi.isAllocated(24)).toBe(false);
    expect(() => alloc.free(r)).toThrow(expect.objectContaining({ code: 'NOT_REGISTERED' }));
    expect(() => alloc.free(new DeviceResources([{ type: 'gsi', gsi: 30 }]))).toThrow(VmDeviceError);
  });

  it('reports a kind of resource the machine has no allocator for', () => {
    const alloc = new ResourceAllocator({ legacyIrq: new IdAllocator(5, 23) });
    expect(() => alloc.allocate([{ type: 'gsi' }])).toThrow(
      expect.objectContaining({ code: 'OUT_OF_SPACE' }),
    );
    expect(() => alloc.allocate([{ type: 'dma' } as never])).toThrow(TypeError);
  });
});
