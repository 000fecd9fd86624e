import { EFD_NONBLOCK, EventFd } from '@tsvmm/vmm-sys-util';
import { describe, expect, it } from 'vitest';
import {
  IrqFdEdgeInterrupt,
  IrqFdLevelInterrupt,
  IrqLineEdgeInterrupt,
  IrqLineLevelInterrupt,
  type IrqLineProvider,
  RawEventFd,
  VmDeviceError,
} from '../src/index.js';
import { runTsWorker } from './support/ts-worker.js';

/** Stands in for VmFd.setIrqLine: records the levels set (KVM's side is kvm-ioctls' to test). */
class LineLog implements IrqLineProvider {
  readonly levels: Array<[number, boolean]> = [];
  setIrqLine(gsi: number, level: boolean): void {
    this.levels.push([gsi, level]);
  }
}

describe('irqfd-backed interrupts', () => {
  it('an edge trigger writes the eventfd once per trigger', () => {
    using irqfd = new EventFd(0, EFD_NONBLOCK);
    const irq = new IrqFdEdgeInterrupt(irqfd);
    irq.trigger();
    irq.trigger();
    expect(irqfd.read()).toBe(2n);
    expect(irqfd.read()).toBe(0n);
  });

  it('a level interrupt injects on the rising edge only, and re-injects on resample while asserted', () => {
    using irqfd = new EventFd(0, EFD_NONBLOCK);
    using resamplefd = new EventFd(0, EFD_NONBLOCK);
    const irq = new IrqFdLevelInterrupt(irqfd, resamplefd);
    irq.assert();
    irq.assert();
    expect(irq.asserted).toBe(true);
    expect(irqfd.read()).toBe(1n);
    // The guest EOIs: KVM lowers the line and signals the resamplefd; the device still asserts.
    resamplefd.write(1);
    expect(irq.handleResample()).toBe(true);
    expect(resamplefd.read()).toBe(0n);
    expect(irqfd.read()).toBe(1n);
    irq.deassert();
    expect(irq.asserted).toBe(false);
    resamplefd.write(1);
    expect(irq.handleResample()).toBe(false);
    expect(irqfd.read()).toBe(0n);
    irq.assert();
    expect(irqfd.read()).toBe(1n);
  });

  it('shares the asserted state with an attached copy over the same descriptors', () => {
    using irqfd = new EventFd(0, EFD_NONBLOCK);
    using resamplefd = new EventFd(0, EFD_NONBLOCK);
    const owner = new IrqFdLevelInterrupt(irqfd, resamplefd);
    const copy = IrqFdLevelInterrupt.attach(structuredClone(owner.shared));
    copy.assert();
    expect(owner.asserted).toBe(true);
    owner.assert();
    expect(irqfd.read()).toBe(1n);
    resamplefd.write(1);
    expect(owner.handleResample()).toBe(true);
    expect(irqfd.read()).toBe(1n);
    owner.deassert();
    expect(copy.asserted).toBe(false);
  });

  it('can be raised from a worker thread over descriptors the main thread owns', async () => {
    using edgeFd = new EventFd(0, EFD_NONBLOCK);
    using irqfd = new EventFd(0, EFD_NONBLOCK);
    using resamplefd = new EventFd(0, EFD_NONBLOCK);
    const level = new IrqFdLevelInterrupt(irqfd, resamplefd);
    await runTsWorker(new URL('./fixtures/irq-worker.ts', import.meta.url), {
      edgeFd: edgeFd.fd,
      level: level.shared,
    });
    expect(edgeFd.read()).toBe(3n);
    expect(level.asserted).toBe(true);
    expect(irqfd.read()).toBe(1n);
  }, 60_000);

  it('rejects what is not an eventfd or a shared descriptor', () => {
    expect(() => new IrqFdEdgeInterrupt({} as never)).toThrow(TypeError);
    using efd = new EventFd(0, EFD_NONBLOCK);
    expect(() => new IrqFdLevelInterrupt(efd, { write() {} } as never)).toThrow(TypeError);
    expect(() => new IrqFdLevelInterrupt(efd, efd, new SharedArrayBuffer(2))).toThrow(TypeError);
    for (const bad of [
      null,
      5,
      { irqfd: 3, resamplefd: 4, state: new ArrayBuffer(4) },
      { irqfd: 3, state: new SharedArrayBuffer(4) },
    ]) {
      expect(() => IrqFdLevelInterrupt.attach(bad as never)).toThrow(VmDeviceError);
      try {
        IrqFdLevelInterrupt.attach(bad as never);
      } catch (e) {
        expect((e as VmDeviceError).code).toBe('BAD_SHARED_STATE');
      }
    }
  });
});

describe('IRQ-line-backed interrupts', () => {
  it('an edge trigger pulses the line high then low', () => {
    const vm = new LineLog();
    new IrqLineEdgeInterrupt(vm, 4).trigger();
    expect(vm.levels).toEqual([
      [4, true],
      [4, false],
    ]);
  });

  it('a level interrupt sets the level', () => {
    const vm = new LineLog();
    const irq = new IrqLineLevelInterrupt(vm, 11);
    irq.assert();
    irq.deassert();
    expect(vm.levels).toEqual([
      [11, true],
      [11, false],
    ]);
  });

  it('check their arguments', () => {
    expect(() => new IrqLineEdgeInterrupt({} as never, 4)).toThrow(TypeError);
    expect(() => new IrqLineLevelInterrupt({} as never, 4)).toThrow(TypeError);
    expect(() => new IrqLineEdgeInterrupt(new LineLog(), -1)).toThrow(RangeError);
    expect(() => new IrqLineLevelInterrupt(new LineLog(), 1.5)).toThrow(TypeError);
  });
});

describe('RawEventFd', () => {
  it('signals and drains an eventfd it does not own', () => {
    using efd = new EventFd(0, EFD_NONBLOCK);
    const raw = new RawEventFd(efd.fd);
    raw.write();
    raw.write(41n);
    expect(efd.read()).toBe(42n);
    efd.write(7);
    expect(raw.read()).toBe(7n);
    expect(raw.read()).toBe(0n);
  });

  it('checks its arguments and reports system errors', () => {
    expect(() => new RawEventFd(-1)).toThrow(RangeError);
    expect(() => new RawEventFd(2.5)).toThrow(TypeError);
    using efd = new EventFd(0, EFD_NONBLOCK);
    expect(() => new RawEventFd(efd.fd).write(0)).toThrow(RangeError);
    // A descriptor number far above any this process opens.
    expect(() => new RawEventFd(0x7ffffff0).read()).toThrow(expect.objectContaining({ code: 'EBADF' }));
    expect(() => new RawEventFd(0x7ffffff0).write()).toThrow(expect.objectContaining({ code: 'EBADF' }));
  });
});
