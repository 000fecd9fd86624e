/**
 * A device's hot path, 64 requests per iteration: the driver (a mock)
 * publishes a chain of a 64-byte request and a 16-byte reply buffer, the
 * device pops it, reads the request, writes the reply and returns it as
 * used. (Split chains are laid out once and only re-published; a packed
 * ring is overwritten by used descriptors, so the mock driver lays out every
 * chain again inside the measurement.) The baseline moves the same bytes with plain GuestMemory copies:
 * the difference is what the queue's parsing and checking cost.
 */
import { GuestMemoryMmap } from '@tsvmm/vm-memory';
import { bench, describe } from 'vitest';
import type { VirtQueue } from '../src/index.js';
import { MockPackedQueue, MockSplitQueue } from '../src/testing/index.js';

const mem = GuestMemoryMmap.fromRanges([{ start: 0n, size: 0x100_0000 }]);
const REQ = 0x10_0000n;
const REPLY = 0x20_0000n;
const buffers = [
  { addr: REQ, len: 64 },
  { addr: REPLY, len: 16, write: true },
];
const request = new Uint8Array(64);
const reply = new Uint8Array(16).fill(1);

const split = new MockSplitQueue(mem, 256, { base: 0x1000n });
const splitQueue = split.createQueue();
// Split descriptors stay put: lay 64 chains out once, then only re-publish their heads.
const heads = Array.from({ length: 64 }, () => split.addChain(buffers).head);
for (const chain of splitQueue.iter(mem)) splitQueue.addUsed(mem, chain.headIndex, 0);
const packed = new MockPackedQueue(mem, 256, { base: 0x8000n });
const packedQueue = packed.createQueue();

/** What a device does for every available chain. */
function serve(queue: VirtQueue): void {
  for (const chain of queue.iter(mem)) {
    chain.reader().readExact(request);
    const w = chain.writer();
    w.writeExact(reply);
    queue.addUsed(mem, chain.headIndex, w.bytesWritten);
  }
  queue.needsNotification(mem);
}

describe('64 requests: pop, read 64 B, write 16 B, addUsed', () => {
  bench('split Queue', () => {
    for (const head of heads) split.publish(head);
    serve(splitQueue);
  });

  bench('PackedQueue (the driver rewrites each slot)', () => {
    for (let i = 0; i < 64; i++) packed.addChain(buffers);
    serve(packedQueue);
    packed.takeUsed();
  });

  bench('baseline: the same copies through GuestMemory', () => {
    for (let i = 0; i < 64; i++) {
      mem.readSlice(REQ, request);
      mem.writeSlice(REPLY, reply);
    }
  });
});
