/**
 * The fuzz harness: random guest memory, random queue configurations and
 * random (often almost valid) descriptor rings, driven by a device loop that
 * does everything a device does. The properties checked for every case:
 *
 * - nothing is thrown but a `VirtioQueueError` (and only from the calls a
 *   device makes),
 * - the device loop ends within an access budget (no loop can spin), and
 * - every access lies inside guest memory, and every write lands in the
 *   device's own ring area or in a writable buffer of a chain it was given.
 */
import { GuestMemoryArrayBuffer } from '@tsvmm/vm-memory';
import fc from 'fast-check';
import {
  type DescriptorChain,
  PackedQueue,
  Queue,
  usedRingSize,
  VirtioQueueError,
  type VirtQueue,
} from '../../src/index.js';
import { RecordingMemory } from '../../src/testing/index.js';

/** Guest memory: 32 KiB at 0 and 16 KiB at 64 KiB, with a gap between. */
export const RAM = [
  { start: 0n, size: 0x8000 },
  { start: 0x10000n, size: 0x4000 },
];
const TABLES = 0x4000n; // where generated indirect tables go
const U64_MAX = 2n ** 64n - 1n;

/** A guest address: mostly a buffer inside RAM, often at its edges, sometimes anywhere. */
const addrArb = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .oneof(fc.integer({ min: 0x4000, max: 0x7e00 }), fc.integer({ min: 0x10000, max: 0x13e00 }))
      .map(BigInt),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(0n, 0x7ff8n, 0x7fffn, 0x8000n, 0xfff0n, 0x13ff0n, 0x14000n, TABLES),
  },
  { weight: 1, arbitrary: fc.constantFrom(U64_MAX, U64_MAX - 7n, 2n ** 53n, 2n ** 32n) },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: U64_MAX }) },
);
const lenArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0, max: 256 }) },
  { weight: 2, arbitrary: fc.constantFrom(16, 32, 48, 0x1000, 0x4000) },
  { weight: 1, arbitrary: fc.constantFrom(0xffff_fff0, 0xffff_ffff) },
);
/** Packed AVAIL/USED bits: mostly "available in the first lap", sometimes anything. */
const lapBitsArb = fc.oneof(
  { weight: 6, arbitrary: fc.constant(0x80) },
  { weight: 1, arbitrary: fc.constantFrom(0, 0x8000, 0x8080) },
);
/** Flags: mostly what drivers write (none, NEXT, WRITE, both), sometimes INDIRECT, sometimes anything. */
const flagsArb = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(fc.constantFrom(0, 1, 2, 3), lapBitsArb).map(([f, lap]) => f | lap) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(4, 5, 6, 7), lapBitsArb).map(([f, lap]) => f | lap) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
);

/** One 16-byte descriptor, split (`next`) or packed (`id`) alike. */
const descArb = fc.record({
  addr: addrArb,
  len: lenArb,
  flags: flagsArb,
  link: fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0, max: 31 }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
  ),
});

export interface QueueCase {
  packed: boolean;
  seed: number;
  size: number;
  maxSize: number;
  eventIdx: boolean;
  rings: [bigint, bigint, bigint];
  descriptors: Array<{ addr: bigint; len: number; flags: number; link: number }>;
  /** Turn the first `cycle` descriptors into a NEXT loop (split) or a run of NEXT slots (packed). */
  cycle: number;
  table: Array<{ addr: bigint; len: number; flags: number; link: number }>;
  /** Split: the available ring entries; packed: unused. */
  heads: number[];
  availAhead: number;
  nextAvail: number;
  nextUsed: number;
  driverWords: [number, number, number];
}

const sizeArb = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(1, 2, 4, 8, 16, 32) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 64, 0x10000) },
);
const ringsArb = fc.oneof(
  { weight: 8, arbitrary: fc.constant<[bigint, bigint, bigint]>([0x1000n, 0x2000n, 0x3000n]) },
  { weight: 2, arbitrary: fc.tuple(addrArb, addrArb, addrArb) },
);

export const queueCaseArb: fc.Arbitrary<QueueCase> = fc.record({
  packed: fc.boolean(),
  seed: fc.integer(),
  size: sizeArb,
  maxSize: fc.constantFrom(32, 64),
  eventIdx: fc.boolean(),
  rings: ringsArb,
  descriptors: fc.array(descArb, { maxLength: 40 }),
  cycle: fc.oneof(
    { weight: 3, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 40 }) },
  ),
  table: fc.array(descArb, { maxLength: 24 }),
  heads: fc.array(
    fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: 0, max: 31 }) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
    ),
    { maxLength: 40 },
  ),
  availAhead: fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0, max: 8 }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }) },
  ),
  nextAvail: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })),
  nextUsed: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })),
  driverWords: fc.tuple(
    fc.integer({ min: 0, max: 0xffff }),
    fc.integer({ min: 0, max: 3 }),
    fc.integer({ min: 0, max: 0xffff }),
  ),
});

/** Fills memory with a fast xorshift stream from `seed`: random bytes everywhere the case writes nothing. */
function scramble(mem: GuestMemoryArrayBuffer, seed: number): void {
  let x = seed | 1;
  for (const r of mem.regions) {
    const words = new Uint32Array(r.buffer, 0, r.size / 4);
    for (let i = 0; i < words.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      words[i] = x;
    }
  }
}

/** Writes a 16-byte descriptor wherever it fits in RAM (skipping bytes that do not). */
function putDescriptor(
  mem: GuestMemoryArrayBuffer,
  at: bigint,
  d: QueueCase['descriptors'][number],
  packed: boolean,
) {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, d.addr, true);
  view.setUint32(8, d.len, true);
  view.setUint16(packed ? 14 : 12, d.flags, true);
  view.setUint16(packed ? 12 : 14, d.link, true);
  if (mem.checkRange(at, 16)) mem.writeSlice(at, bytes);
}

/** Builds the memory and the queue a case describes. */
export function buildCase(c: QueueCase): { mem: GuestMemoryArrayBuffer; queue: VirtQueue } {
  const mem = GuestMemoryArrayBuffer.fromRanges(RAM);
  scramble(mem, c.seed);
  const [desc, avail, used] = c.rings;
  const cycle = Math.min(c.cycle, c.descriptors.length);
  c.descriptors.forEach((d, i) => {
    // Point some indirect descriptors at the generated table.
    let fixed = (d.flags & 4) !== 0 && i % 2 === 0 ? { ...d, addr: TABLES, len: 16 * c.table.length } : d;
    if (i < cycle) fixed = { ...fixed, flags: (fixed.flags & 0x8080) | 1, link: (i + 1) % cycle };
    putDescriptor(mem, desc + BigInt(16 * i), fixed, c.packed);
  });
  c.table.forEach((d, i) => {
    putDescriptor(mem, TABLES + BigInt(16 * i), d, c.packed);
  });
  const put16 = (at: bigint, v: number) => {
    if (mem.checkRange(at, 2)) mem.writeU16(at, v & 0xffff);
  };
  if (c.packed) {
    put16(avail, c.driverWords[0]);
    put16(avail + 2n, c.driverWords[1]);
  } else {
    put16(avail, c.driverWords[1] & 1);
    put16(avail + 2n, c.nextAvail + c.availAhead);
    c.heads.forEach((h, i) => {
      put16(avail + 4n + BigInt(2 * i), h);
    });
    put16(avail + 4n + BigInt(2 * c.size), c.driverWords[2]);
  }
  const queue = c.packed ? new PackedQueue(c.maxSize) : new Queue(c.maxSize);
  queue.setSize(Math.min(c.size, 0xffff_ffff));
  queue.setDescTableAddress(Number(desc & 0xffff_ffffn), Number((desc >> 32n) & 0xffff_ffffn));
  queue.setAvailRingAddress(Number(avail & 0xffff_ffffn), Number((avail >> 32n) & 0xffff_ffffn));
  queue.setUsedRingAddress(Number(used & 0xffff_ffffn), Number((used >> 32n) & 0xffff_ffffn));
  queue.setEventIdx(c.eventIdx);
  queue.setReady(true);
  if (queue instanceof Queue) {
    queue.setNextAvail(c.nextAvail);
    queue.setNextUsed(c.nextUsed);
  }
  return { mem, queue };
}

/** What a device loop did in one case. */
export interface DeviceRun {
  chains: number;
  errors: Map<string, number>;
}

/** Errors after which a device stops using the queue. */
const FATAL = new Set([
  'QUEUE_NOT_READY',
  'INVALID_SIZE',
  'MISALIGNED_AREA',
  'AREA_OUT_OF_MEMORY',
  'INVALID_AVAIL_IDX',
  'GUEST_MEMORY',
]);

/** The budget of guest memory accesses for one case. */
export const ACCESS_BUDGET = 2_000_000;

/**
 * Runs a device over a queue the way a device does, and checks the three
 * properties of the module comment. Throws (failing the property) if one
 * does not hold.
 */
export function runDevice(inner: GuestMemoryArrayBuffer, queue: VirtQueue, writeSeed = 0): DeviceRun {
  const mem = new RecordingMemory(inner, { budget: ACCESS_BUDGET });
  const run: DeviceRun = { chains: 0, errors: new Map() };
  /** Runs one device call; returns the VirtioQueueError it threw, if any. Anything else fails the case. */
  const own = (fn: () => void): VirtioQueueError | undefined => {
    try {
      fn();
      return undefined;
    } catch (err) {
      if (!(err instanceof VirtioQueueError)) throw err;
      run.errors.set(err.code, (run.errors.get(err.code) ?? 0) + 1);
      return err;
    }
  };
  // The device's own area: where it may write besides the chains' writable buffers.
  const size = queue.size;
  const allowed: Array<[bigint, bigint]> = [];
  if (queue instanceof Queue) allowed.push([queue.usedRing, queue.usedRing + BigInt(usedRingSize(size))]);
  else {
    allowed.push([queue.descTable, queue.descTable + BigInt(16 * size)]);
    allowed.push([queue.usedRing, queue.usedRing + 4n]);
  }
  const valid = queue.isValid(mem);
  own(() => queue.disableNotification(mem));
  let fill = writeSeed & 0xff;
  for (let round = 0; round < 2; round++) {
    // More pops than the ring can hold: a queue that keeps yielding chains is a bug.
    for (let step = 0; step <= 2 * Math.min(size, 0x10000) + 2; step++) {
      let chain: DescriptorChain | undefined;
      const err = own(() => {
        chain = queue.popDescriptorChain(mem);
      });
      if (err !== undefined) {
        // The queue itself is unusable: a device resets (NEEDS_RESET).
        if (FATAL.has(err.code)) break;
        // A malformed chain: hand it back empty, as a tolerant device does, and go on.
        const head = err.headIndex;
        if (head !== undefined) own(() => queue.addUsed(mem, head, 0));
        continue;
      }
      if (chain === undefined) break;
      run.chains++;
      for (const d of chain.descriptors) {
        if (d.isWriteOnly) allowed.push([d.addr, d.addr + BigInt(d.len)]);
      }
      const reader = chain.reader();
      const sink = new Uint8Array(Math.min(reader.availableBytes, 0x10000));
      reader.read(sink);
      own(() => reader.readU32());
      const writer = chain.writer();
      const reply = new Uint8Array(Math.min(writer.availableBytes, 0x10000)).fill(fill++ & 0xff);
      writer.write(reply);
      own(() => writer.writeU16(1));
      own(() => queue.addUsed(mem, chain!.headIndex, writer.bytesWritten));
    }
    own(() => {
      queue.needsNotification(mem);
    });
    own(() => {
      queue.enableNotification(mem);
    });
  }
  if (mem.violations.length > 0) {
    throw new Error(
      `accesses outside guest memory: ${JSON.stringify(mem.violations.slice(0, 3), (_, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v))}`,
    );
  }
  for (const w of mem.writes) {
    const end = w.addr + BigInt(w.len);
    if (!allowed.some(([lo, hi]) => w.addr >= lo && end <= hi)) {
      throw new Error(
        `a write at 0x${w.addr.toString(16)}+${w.len} outside the device's areas (valid queue: ${valid})`,
      );
    }
  }
  return run;
}
