import { IrqFdEdgeInterrupt } from '@tsvmm/vm-device';
import { EFD_NONBLOCK, EventFd } from '@tsvmm/vmm-sys-util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Serial, UART_IER, UART_IIR, UART_LCR, UART_LSR, UART_RX } from '../src/index.js';

// `pnpm fuzz` runs many more cases.
fc.configureGlobal({ numRuns: Number(process.env.VM_SUPERIO_FUZZ_RUNS ?? 300) });

const VALID_IDS = [0x01, 0x00, 0x02, 0x04, 0x06, 0x0c];

const op = fc.oneof(
  fc.record({
    kind: fc.constant('write' as const),
    offset: fc.integer({ min: 0, max: 9 }),
    size: fc.constantFrom(1, 1, 1, 1, 2, 4),
    value: fc.integer({ min: 0, max: 0xff }),
  }),
  fc.record({
    kind: fc.constant('read' as const),
    offset: fc.integer({ min: 0, max: 9 }),
    size: fc.constantFrom(1, 1, 1, 1, 2, 4),
  }),
  fc.record({ kind: fc.constant('input' as const), bytes: fc.uint8Array({ maxLength: 24 }) }),
);

describe('Serial under arbitrary guest register traffic', () => {
  it('never throws and keeps its invariants: bounded FIFO, consistent IIR and LSR, one edge per interrupt', () => {
    using irqfd = new EventFd(0, EFD_NONBLOCK);
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        irqfd.read();
        let raised = 0n;
        const serial = new Serial({
          output: () => {},
          interrupt: new IrqFdEdgeInterrupt(irqfd),
          log: () => {},
        });
        for (const o of ops) {
          if (o.kind === 'input') {
            const space = serial.inputSpace();
            expect(space).toBeGreaterThanOrEqual(0);
            expect(space).toBeLessThanOrEqual(16);
            expect(serial.enqueueInput(o.bytes)).toBe(Math.min(space, o.bytes.length));
          } else if (o.kind === 'write') {
            const data = new Uint8Array(o.size).fill(o.value);
            serial.pioWrite(0x3f8, o.offset, data);
          } else {
            const data = new Uint8Array(o.size);
            serial.pioRead(0x3f8, o.offset, data);
            if (o.size !== 1 || o.offset > 7) expect(data.every((b) => b === 0xff)).toBe(true);
          }
          // An access raises at most one edge, and only into a pending interrupt.
          const edges = irqfd.read();
          const iir = serial.read(UART_IIR);
          expect(edges).toBeLessThanOrEqual(1n);
          raised += edges;
          if (edges === 1n) expect(iir & 0x01).toBe(0);
          const lsr = serial.read(UART_LSR);
          expect(lsr & 0x60).toBe(0x60); // THRE and TEMT: transmission is instant
          expect(lsr & 0x9c).toBe(0); // no parity/framing/break/FIFO errors are ever produced
          const dlab = (serial.read(UART_LCR) & 0x80) !== 0;
          const ier = dlab ? 0 : serial.read(UART_IER); // with DLAB set, offset 1 is DLM
          expect(VALID_IDS).toContain(iir & 0x0f);
          expect(iir & 0x30).toBe(0);
          expect([0x00, 0xc0]).toContain(iir & 0xc0);
          if ((iir & 0x0f) === 0x0c) expect(iir & 0xc0).toBe(0xc0);
          // Received data outranks THR empty and modem status whenever it is enabled.
          if (ier & 0x01 && lsr & 0x01) expect([0x04, 0x06, 0x0c]).toContain(iir & 0x0f);
        }
        // The FIFO drains within its size (once DLAB is off, offset 0 is the receive buffer).
        serial.write(UART_LCR, 0x03);
        let reads = 0;
        while (serial.read(UART_LSR) & 0x01 && reads <= 16) {
          serial.read(UART_RX);
          reads++;
        }
        expect(serial.read(UART_LSR) & 0x01).toBe(0);
        expect(raised + irqfd.read()).toBe(BigInt(serial.metrics.interrupts));
      }),
    );
  });
});
