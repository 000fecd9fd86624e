/**
 * The transport against a hostile driver: random register accesses of any
 * size and value, interleaved with what the I/O thread does (act on
 * DRIVER_OK and reset, serve notifications) for a real device over
 * recording memory. Nothing may throw, and the status rules must hold after
 * every step. `pnpm fuzz` runs VIRTIO_DEVICES_FUZZ_RUNS cases.
 */
import { MockSplitQueue, RecordingMemory } from '@tsvmm/virtio-queue/testing';
import { GuestMemoryArrayBuffer } from '@tsvmm/vm-memory';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MmioDeviceRunner,
  RNG_DEVICE_INFO,
  RngDevice,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FEATURES_OK,
  VIRTIO_F_VERSION_1,
  VIRTIO_MMIO_MAGIC_VALUE_OFFSET,
  VirtioMmioTransport,
} from '../../src/index.js';
import { MmioDriver } from '../support/mmio-driver.js';

const RUNS = Number(process.env.VIRTIO_DEVICES_FUZZ_RUNS ?? 300);
const REGISTERS = [
  0x00, 0x04, 0x08, 0x0c, 0x10, 0x14, 0x20, 0x24, 0x30, 0x34, 0x38, 0x44, 0x50, 0x60, 0x64, 0x70, 0x80, 0x84,
  0x90, 0x94, 0xa0, 0xa4, 0xac, 0xb0, 0xb4, 0xb8, 0xbc, 0xc0, 0xfc, 0x100, 0x104,
];
const STATUS_VALUES = [0, 1, 3, 0xb, 0xf, 0x80, 0x40, 0x8f, 0xff];

const stepArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('access' as const),
      write: fc.boolean(),
      offset: fc.oneof(
        { weight: 8, arbitrary: fc.constantFrom(...REGISTERS) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xfff }) },
      ),
      size: fc.oneof(
        { weight: 8, arbitrary: fc.constant(4) },
        { weight: 1, arbitrary: fc.constantFrom(1, 2, 3, 8) },
      ),
      value: fc.oneof(
        fc.constantFrom(...STATUS_VALUES),
        fc.integer({ min: 0, max: 64 }),
        fc.constantFrom(0x1000, 0x2000, 0x3000, 0x3_0000),
        fc.integer({ min: 0, max: 0xffff_ffff }),
      ),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'sync' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('notify' as const), queue: fc.integer({ min: 0, max: 1 }) }),
  },
);

describe('virtio-mmio transport fuzzing', () => {
  it('hostile register traffic: nothing throws, the status rules hold, memory stays in bounds', {
    timeout: Math.max(30_000, RUNS * 2),
  }, () => {
    let activated = 0;
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.array(stepArb, { maxLength: 80 }),
        fc.uint8Array({ maxLength: 256 }),
        (probeFirst, steps, ram) => {
          const inner = GuestMemoryArrayBuffer.fromRanges([{ start: 0n, size: 0x4_0000 }]);
          const mem = new RecordingMemory(inner, { budget: 200_000, recordWrites: false });
          const transport = VirtioMmioTransport.create(RNG_DEVICE_INFO);
          const runner = new MmioDeviceRunner(new RngDevice(), transport.shared, {
            memory: mem,
            interrupt: { trigger() {} },
            eventLoop: { add() {}, modify() {}, remove() {} },
          });
          if (probeFirst) {
            // A driver that did everything right first, with buffers posted: the hostile part then
            // meets an activated device.
            const mock = new MockSplitQueue(inner, 16);
            new MmioDriver(transport).probe(RNG_DEVICE_INFO.availFeatures, [mock]);
            mock.addChain([{ len: 16, write: true }]);
            runner.sync();
            if (runner.active) activated++;
          }
          inner.writeSlice(0x1000n, ram); // the rings, partly overwritten
          const data = new Uint8Array(8);
          for (const step of steps) {
            if (step.kind === 'sync') runner.sync();
            else if (step.kind === 'notify') runner.processQueue(step.queue);
            else {
              const bytes = data.subarray(0, step.size);
              new DataView(data.buffer).setBigUint64(0, BigInt(step.value), true);
              if (step.write) transport.write(step.offset, bytes);
              else transport.read(step.offset, bytes);
            }
            const status = transport.status;
            expect(status & ~0xcf).toBe(0);
            if (status & VIRTIO_CONFIG_S_FEATURES_OK) {
              const acked = transport.state.driverFeatures();
              expect(acked & ~RNG_DEVICE_INFO.availFeatures).toBe(0n);
              expect(acked & (1n << BigInt(VIRTIO_F_VERSION_1))).not.toBe(0n);
            }
            if (status & VIRTIO_CONFIG_S_DRIVER_OK) expect(status & VIRTIO_CONFIG_S_FEATURES_OK).not.toBe(0);
            if (step.kind === 'sync' && runner.active) expect(status & VIRTIO_CONFIG_S_DRIVER_OK).not.toBe(0);
          }
          const magic = new Uint8Array(4);
          transport.read(VIRTIO_MMIO_MAGIC_VALUE_OFFSET, magic);
          expect(new DataView(magic.buffer).getUint32(0, true)).toBe(0x74726976);
          expect(mem.violations).toEqual([]);
        },
      ),
      { numRuns: RUNS },
    );
    expect(activated).toBeGreaterThan(RUNS / 4);
  });
});
