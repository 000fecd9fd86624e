import { randomBytes } from 'node:crypto';
import { IrqFdEdgeInterrupt } from '@tsvmm/vm-device';
import { EFD_NONBLOCK, EventFd } from '@tsvmm/vmm-sys-util';
import { describe, expect, it } from 'vitest';
import { Serial, UART_FCR, UART_IER } from '../src/index.js';
import { firstMessage, tsWorker } from './support/worker.js';

describe('Serial shared between threads', () => {
  it('keeps two vCPU workers’ output and the main thread’s input intact and in order', async () => {
    using irqfd = new EventFd(0, EFD_NONBLOCK);
    const serial = new Serial({ output: () => {}, interrupt: new IrqFdEdgeInterrupt(irqfd) });
    serial.write(UART_FCR, 0x81);
    serial.write(UART_IER, 0x01);
    const input = randomBytes(3000);
    const start = new Int32Array(new SharedArrayBuffer(8));
    const vcpu = (fill: number, receive: number) =>
      tsWorker(new URL('./fixtures/serial-vcpu.ts', import.meta.url), {
        shared: serial.shared,
        irqfd: irqfd.fd,
        fill,
        count: 2000,
        receive,
        start,
      });
    const workers = [vcpu(0x41, 0), vcpu(0x42, input.length)];
    const results = workers.map((w) => firstMessage<{ out: number[]; received: number[] }>(w));
    while (Atomics.load(start, 1) < 2) await new Promise((r) => setTimeout(r, 5));
    Atomics.store(start, 0, 1);
    Atomics.notify(start, 0);
    // The main thread feeds stdin, waiting for room like a VMM does.
    for (let sent = 0; sent < input.length; ) {
      sent += serial.enqueueInput(input.subarray(sent));
      if (sent < input.length) await serial.whenInputSpace();
    }
    const [a, b] = await Promise.all(results);
    await Promise.all(workers.map((w) => w.terminate()));
    expect(a!.out).toEqual(Array(2000).fill(0x41));
    expect(b!.out).toEqual(Array(2000).fill(0x42));
    expect(Buffer.from(b!.received).equals(input)).toBe(true);
    const m = serial.metrics;
    expect(m.txBytes).toBe(4000);
    expect(m.rxBytes).toBe(input.length);
    expect(m.interrupts).toBeGreaterThan(0);
    expect(irqfd.read()).toBe(BigInt(m.interrupts));
  }, 60_000);
});
