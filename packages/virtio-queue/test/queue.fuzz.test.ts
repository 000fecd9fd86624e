/**
 * The fuzz properties. The ordinary suite runs a small share of the cases;
 * `pnpm fuzz` runs VIRTIO_QUEUE_FUZZ_RUNS (100000) of each.
 */
import { GuestMemoryArrayBuffer } from '@tsvmm/vm-memory';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MockPackedQueue, MockSplitQueue } from '../src/testing/index.js';
import { buildCase, queueCaseArb, RAM, runDevice } from './fuzz/harness.js';

const RUNS = Number(process.env.VIRTIO_QUEUE_FUZZ_RUNS ?? 1000);
const TIMEOUT = Math.max(30_000, RUNS * 5);

describe('virtqueue fuzzing', () => {
  it(
    'random rings: only VirtioQueueErrors, always terminates, never outside guest memory or its own areas',
    () => {
      const seen = new Map<string, number>();
      fc.assert(
        fc.property(queueCaseArb, (c) => {
          const { mem, queue } = buildCase(c);
          const run = runDevice(mem, queue, c.seed);
          for (const [code, n] of run.errors) seen.set(code, (seen.get(code) ?? 0) + n);
          seen.set('chains', (seen.get('chains') ?? 0) + run.chains);
        }),
        { numRuns: RUNS },
      );
      // The generator reaches deep: real chains (about one case in eight) and, over a full run, every
      // kind of malformation. The margins keep these checks from ever failing by chance.
      expect(seen.get('chains')).toBeGreaterThan(RUNS / 50);
      if (RUNS >= 10_000) {
        for (const code of [
          'CHAIN_TOO_LONG',
          'INVALID_DESCRIPTOR_INDEX',
          'DESCRIPTOR_OUT_OF_MEMORY',
          'INVALID_AVAIL_IDX',
          'INDIRECT_WITH_NEXT',
          'INVALID_INDIRECT_TABLE',
          'READABLE_AFTER_WRITABLE',
          'DESCRIPTOR_NOT_AVAILABLE',
          'NESTED_INDIRECT',
        ]) {
          expect(seen.get(code), code).toBeGreaterThan(0);
        }
      }
    },
    TIMEOUT,
  );

  /** Valid chains laid out by the mock drivers, then random bytes flipped in the rings and tables. */
  const mutatedArb = fc.record({
    packed: fc.boolean(),
    size: fc.constantFrom(2, 4, 8, 16),
    chains: fc.array(
      fc.record({
        indirect: fc.boolean(),
        buffers: fc.array(fc.record({ len: fc.integer({ min: 0, max: 64 }), write: fc.boolean() }), {
          minLength: 1,
          maxLength: 4,
        }),
      }),
      { maxLength: 6 },
    ),
    flips: fc.array(fc.tuple(fc.integer({ min: 0x1000, max: 0x1400 }), fc.integer({ min: 0, max: 255 })), {
      maxLength: 6,
    }),
    tableFlips: fc.array(fc.tuple(fc.integer({ min: 0, max: 0x200 }), fc.integer({ min: 0, max: 255 })), {
      maxLength: 4,
    }),
  });

  it(
    'valid rings with random corruption: the same three properties',
    () => {
      fc.assert(
        fc.property(mutatedArb, (c) => {
          const mem = GuestMemoryArrayBuffer.fromRanges(RAM);
          const options = { base: 0x1000n, dataBase: 0x4000n };
          const driver = c.packed
            ? new MockPackedQueue(mem, c.size, options)
            : new MockSplitQueue(mem, c.size, options);
          for (const chain of c.chains.slice(0, c.size)) {
            // Readable buffers first, as a driver must; the corruption may break that.
            const buffers = [...chain.buffers].sort((a, b) => Number(a.write) - Number(b.write));
            driver.addChain(buffers, { indirect: chain.indirect });
          }
          for (const [at, byte] of c.flips) mem.writeU8(BigInt(at), byte);
          for (const [at, byte] of c.tableFlips) mem.writeU8(0x4000n + BigInt(at), byte);
          runDevice(mem, driver.createQueue());
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});
