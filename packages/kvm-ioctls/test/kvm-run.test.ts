import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  KVM_EXIT_DEBUG,
  KVM_EXIT_FAIL_ENTRY,
  KVM_EXIT_HLT,
  KVM_EXIT_INTERNAL_ERROR,
  KVM_EXIT_INTR,
  KVM_EXIT_IO,
  KVM_EXIT_IO_IN,
  KVM_EXIT_IO_OUT,
  KVM_EXIT_IRQ_WINDOW_OPEN,
  KVM_EXIT_MMIO,
  KVM_EXIT_SHUTDOWN,
  KVM_EXIT_SYSTEM_EVENT,
  KVM_SYSTEM_EVENT_RESET,
  KvmError,
  KvmRun,
  kvm_run,
} from '../src/index.js';

const PAGE = 4096;
/** A fake vCPU mapping: kvm_run in the first page, the PIO data page after it. */
function page(): { run: KvmRun; view: DataView; bytes: Uint8Array } {
  const buffer = new ArrayBuffer(3 * PAGE);
  return { run: new KvmRun(buffer), view: new DataView(buffer), bytes: new Uint8Array(buffer) };
}
const at = (path: string) => kvm_run.offsetOf(path);

function setIo(view: DataView, direction: number, port: number, size: number, count: number, offset = PAGE) {
  view.setUint32(at('exit_reason'), KVM_EXIT_IO, true);
  view.setUint8(at('io.direction'), direction);
  view.setUint8(at('io.size'), size);
  view.setUint16(at('io.port'), port, true);
  view.setUint32(at('io.count'), count, true);
  view.setBigUint64(at('io.data_offset'), BigInt(offset), true);
}

describe('KvmRun: exits read in place from a kvm_run page', () => {
  it('decodes port I/O with a view of the data at data_offset, count accesses long', () => {
    const { run, view, bytes } = page();
    bytes.set([1, 2, 3, 4, 5, 6], PAGE);
    setIo(view, KVM_EXIT_IO_OUT, 0x3f8, 2, 3);
    const out = run.decode();
    expect(out).toMatchObject({ kind: 'IoOut', port: 0x3f8, size: 2, count: 3 });
    expect(out.kind === 'IoOut' && [...out.data]).toEqual([1, 2, 3, 4, 5, 6]);
    setIo(view, KVM_EXIT_IO_IN, 0x60, 1, 1);
    const input = run.decode();
    expect(input).toMatchObject({ kind: 'IoIn', port: 0x60, size: 1, count: 1 });
    if (input.kind === 'IoIn') input.data[0] = 0xab; // the answer goes into the page
    expect(bytes[PAGE]).toBe(0xab);
  });

  it('decodes MMIO with the address and a view of mmio.data of len bytes', () => {
    const { run, view, bytes } = page();
    view.setUint32(at('exit_reason'), KVM_EXIT_MMIO, true);
    view.setBigUint64(at('mmio.phys_addr'), 0xfee0_0030n, true);
    view.setUint32(at('mmio.len'), 4, true);
    view.setUint8(at('mmio.is_write'), 1);
    bytes.set([9, 8, 7, 6], at('mmio.data'));
    const write = run.decode();
    expect(write).toMatchObject({ kind: 'MmioWrite', address: 0xfee0_0030n });
    expect(write.kind === 'MmioWrite' && [...write.data]).toEqual([9, 8, 7, 6]);
    view.setUint8(at('mmio.is_write'), 0);
    view.setUint32(at('mmio.len'), 8, true);
    const read = run.decode();
    expect(read).toMatchObject({ kind: 'MmioRead', address: 0xfee0_0030n });
    if (read.kind === 'MmioRead') read.data.fill(0x11);
    expect([...bytes.subarray(at('mmio.data'), at('mmio.data') + 8)]).toEqual(Array(8).fill(0x11));
  });

  it('decodes the other exits', () => {
    const { run, view } = page();
    const reason = (r: number) => view.setUint32(at('exit_reason'), r, true);
    for (const [r, kind] of [
      [KVM_EXIT_HLT, 'Hlt'],
      [KVM_EXIT_SHUTDOWN, 'Shutdown'],
      [KVM_EXIT_IRQ_WINDOW_OPEN, 'IrqWindowOpen'],
      [KVM_EXIT_INTR, 'Intr'],
    ] as const) {
      reason(r);
      expect(run.decode()).toEqual({ kind });
    }
    reason(KVM_EXIT_FAIL_ENTRY);
    view.setBigUint64(at('fail_entry.hardware_entry_failure_reason'), 0x21n, true);
    view.setUint32(at('fail_entry.cpu'), 3, true);
    expect(run.decode()).toEqual({ kind: 'FailEntry', hardwareEntryFailureReason: 0x21n, cpu: 3 });

    reason(KVM_EXIT_INTERNAL_ERROR);
    view.setUint32(at('internal.suberror'), 1, true);
    view.setUint32(at('internal.ndata'), 2, true);
    view.setBigUint64(at('internal.data'), 7n, true);
    view.setBigUint64(at('internal.data') + 8, 8n, true);
    expect(run.decode()).toEqual({ kind: 'InternalError', suberror: 1, data: [7n, 8n] });
    view.setUint32(at('internal.ndata'), 1000, true); // more than the 16 that exist: bounded
    const internal = run.decode();
    expect(internal.kind === 'InternalError' && internal.data.length).toBe(16);

    reason(KVM_EXIT_SYSTEM_EVENT);
    view.setUint32(at('system_event.type'), KVM_SYSTEM_EVENT_RESET, true);
    view.setUint32(at('system_event.ndata'), 1, true);
    view.setBigUint64(at('system_event.data'), 0x5n, true);
    expect(run.decode()).toEqual({ kind: 'SystemEvent', type: KVM_SYSTEM_EVENT_RESET, data: [5n] });

    reason(KVM_EXIT_DEBUG);
    view.setUint32(at('debug.arch.exception'), 3, true);
    view.setBigUint64(at('debug.arch.pc'), 0x1000n, true);
    view.setBigUint64(at('debug.arch.dr6'), 0xffff0ff0n, true);
    view.setBigUint64(at('debug.arch.dr7'), 0x400n, true);
    expect(run.decode()).toEqual({ kind: 'Debug', exception: 3, pc: 0x1000n, dr6: 0xffff0ff0n, dr7: 0x400n });

    reason(37); // KVM_EXIT_NOTIFY: not one this package decodes
    expect(run.decode()).toEqual({ kind: 'Unsupported', reason: 37 });
  });

  it('reuses exit objects, data views and MMIO addresses instead of allocating per exit', () => {
    const { run, view } = page();
    setIo(view, KVM_EXIT_IO_OUT, 0x80, 1, 1);
    const a = run.decode();
    setIo(view, KVM_EXIT_IO_OUT, 0x81, 1, 1);
    const b = run.decode();
    expect(b).toBe(a);
    expect(b.kind === 'IoOut' && a.kind === 'IoOut' && b.data).toBe(a.kind === 'IoOut' && a.data);

    view.setUint32(at('exit_reason'), KVM_EXIT_MMIO, true);
    view.setBigUint64(at('mmio.phys_addr'), 0xd000_0000n, true);
    view.setUint32(at('mmio.len'), 4, true);
    const m1 = run.decode();
    const data1 = m1.kind === 'MmioRead' ? m1.data : undefined;
    const m2 = run.decode();
    expect(m2).toBe(m1);
    expect(m2.kind === 'MmioRead' && m2.data).toBe(data1);
    view.setBigUint64(at('mmio.phys_addr'), 0x1_d000_0008n, true);
    expect(run.decode()).toMatchObject({ address: 0x1_d000_0008n });
  });

  it('sets and reads the fields user space writes before a run', () => {
    const { run, bytes } = page();
    run.immediateExit = true;
    run.requestInterruptWindow = true;
    expect([bytes[at('immediate_exit')], bytes[at('request_interrupt_window')]]).toEqual([1, 1]);
    expect([run.immediateExit, run.requestInterruptWindow]).toEqual([true, true]);
    bytes[at('if_flag')] = 1;
    expect(run.ifFlag).toBe(true);
    expect(run.readyForInterruptInjection).toBe(false);
  });

  it('refuses a mapping smaller than struct kvm_run (KVM_RUN_MMAP_SIZE)', () => {
    expect(() => new KvmRun(new ArrayBuffer(kvm_run.size - 1))).toThrow(
      expect.objectContaining({ name: 'KvmError', code: 'KVM_RUN_MMAP_SIZE' }),
    );
    expect(() => new KvmRun(new ArrayBuffer(kvm_run.size))).not.toThrow(KvmError);
  });

  it('never throws on any page, and data views stay inside the mapping', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 400, maxLength: 400 }),
        fc.constantFrom(KVM_EXIT_IO, KVM_EXIT_MMIO, KVM_EXIT_INTERNAL_ERROR, KVM_EXIT_SYSTEM_EVENT, 0, 99),
        (header, reason) => {
          const { run, view, bytes } = page();
          bytes.set(header);
          view.setUint32(at('exit_reason'), reason, true);
          const exit = run.decode();
          if ('data' in exit && exit.data instanceof Uint8Array) {
            expect(exit.data.buffer).toBe(run.buffer);
            expect(exit.data.byteOffset + exit.data.byteLength).toBeLessThanOrEqual(run.buffer.byteLength);
          }
          if (exit.kind === 'Unsupported') expect([reason, KVM_EXIT_IO]).toContain(exit.reason);
        },
      ),
    );
  });
});
