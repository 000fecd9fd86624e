import { GuestMemoryArrayBuffer } from '@tsvmm/vm-memory';
import { VirtioQueueError } from '../src/index.js';
import { MockSplitQueue } from '../src/testing/index.js';

const mem = GuestMemoryArrayBuffer.fromRanges([{ start: 0n, size: 0x10_0000 }]);

// The driver (in a VM, the guest kernel) posts a request and room for the reply.
const driver = new MockSplitQueue(mem, 16);
const { buffers } = driver.addChain([{ data: new TextEncoder().encode('hello') }, { len: 16, write: true }]);

// The device: its transport set the queue up from the driver's register writes.
const queue = driver.createQueue();
try {
  for (const chain of queue.iter(mem)) {
    const request = new Uint8Array(chain.readableLength);
    chain.reader().readExact(request);
    const writer = chain.writer();
    writer.write(new TextEncoder().encode(new TextDecoder().decode(request).toUpperCase()));
    queue.addUsed(mem, chain.headIndex, writer.bytesWritten);
  }
} catch (err) {
  // Whatever the guest got wrong arrives here, named; a device counts it and resets or goes on.
  if (!(err instanceof VirtioQueueError)) throw err;
  console.log('driver error', err.code);
}
console.log(queue.needsNotification(mem)); // true: raise the queue's interrupt

const [used] = driver.takeUsed();
console.log(new TextDecoder().decode(mem.getSlice(buffers[1]!.addr, used!.len))); // HELLO
