import { describe, expect, it, vi } from 'vitest';
import { I8042Device } from '../src/index.js';
import { firstMessage, tsWorker } from './support/worker.js';

describe('I8042Device shared between threads', () => {
  it('sees a vCPU worker’s command byte, and its reset reaches the VMM', async () => {
    const onReset = vi.fn();
    const dev = new I8042Device({ onReset });
    const rebooted = new Int32Array(new SharedArrayBuffer(4));
    const worker = tsWorker(new URL('./fixtures/i8042-vcpu.ts', import.meta.url), {
      shared: dev.shared,
      rebooted,
    });
    await firstMessage(worker);
    await worker.terminate();
    expect(Atomics.load(rebooted, 0)).toBe(1);
    expect(onReset).not.toHaveBeenCalled(); // the callback runs on the thread that wrote the command
    expect(dev.metrics.resets).toBe(1);
    dev.writeCommand(0x20);
    expect(dev.readData()).toBe(0x44);
  }, 60_000);
});
