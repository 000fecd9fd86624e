/**
 * Fuzzing the block device with hostile request chains (fast-check), in the
 * harness of `@tsvmm/virtio-queue`: `MockSplitQueue` posts them and a
 * `RecordingMemory` watches every access the device makes. Requests are
 * shaped like Linux's (header, data, status) with hostile values, or are
 * arbitrary buffer lists (short, zero-length, in the wrong direction, outside
 * guest memory, readable after writable), direct or indirect, with stray
 * head indexes published too. For every case:
 *
 * - nothing is thrown past the device, and it terminates within an access budget;
 * - every access lies in guest memory, and every write lands in the used ring
 *   or in a device-writable buffer of a posted chain;
 * - every published chain whose head is inside the ring is returned, once
 *   per publication, in order, with a used length no larger than its writable part;
 * - the disk is a model of the requests that the device answered OK, and
 *   only those: an OK read returns the model's bytes, an OK write or
 *   write-zeroes had whole sectors inside the disk on a writable disk, and
 *   nothing else ever changes the image.
 *
 * The ordinary suite runs a few hundred cases; `VIRTIO_DEVICES_FUZZ_RUNS`
 * sets more (the package's `fuzz` script).
 */
import { readFileSync } from 'node:fs';
import { usedRingSize } from '@tsvmm/virtio-queue';
import { type MockBuffer, MockSplitQueue, RecordingMemory } from '@tsvmm/virtio-queue/testing';
import { GuestMemoryArrayBuffer } from '@tsvmm/vm-memory';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Block,
  blockSerialId,
  DiskImage,
  VIRTIO_BLK_F_FLUSH,
  VIRTIO_BLK_F_WRITE_ZEROES,
  VIRTIO_BLK_S_OK,
  VIRTIO_BLK_T_DISCARD,
  VIRTIO_BLK_T_FLUSH,
  VIRTIO_BLK_T_GET_ID,
  VIRTIO_BLK_T_GET_LIFETIME,
  VIRTIO_BLK_T_IN,
  VIRTIO_BLK_T_OUT,
  VIRTIO_BLK_T_SECURE_ERASE,
  VIRTIO_BLK_T_WRITE_ZEROES,
} from '../../src/block/index.js';
import { activationFor, header, InterruptLog, patternImage, segment, tempDir } from './helpers.js';

const RUNS = Number(process.env.VIRTIO_DEVICES_FUZZ_RUNS ?? 500);
const TIMEOUT = Math.max(120_000, RUNS * 100);
const BATCH = 500;
const SECTORS = 16;
const QUEUE = 128;
const SERIAL = 'fuzz-serial';
const OUTSIDE = 0xfff_0000n; // not guest memory (1 MiB at 0)
const U64_MAX = 2n ** 64n - 1n;

const sectorArb = fc.oneof(
  { weight: 12, arbitrary: fc.integer({ min: 0, max: SECTORS + 2 }).map(BigInt) },
  { weight: 1, arbitrary: fc.constantFrom(U64_MAX, U64_MAX - 1n, 2n ** 63n, 2n ** 55n, 2n ** 53n) },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: U64_MAX }) },
);
const u32Arb = fc.integer({ min: 0, max: 0xffff_ffff });
const typeArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      VIRTIO_BLK_T_IN,
      VIRTIO_BLK_T_OUT,
      VIRTIO_BLK_T_FLUSH,
      VIRTIO_BLK_T_GET_ID,
      VIRTIO_BLK_T_WRITE_ZEROES,
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      VIRTIO_BLK_T_DISCARD,
      VIRTIO_BLK_T_SECURE_ERASE,
      VIRTIO_BLK_T_GET_LIFETIME,
      2,
      5,
    ),
  },
  { weight: 1, arbitrary: u32Arb },
);
const segmentArb = fc.record({
  sector: fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 0, max: SECTORS / 2 }).map(BigInt) },
    { weight: 1, arbitrary: sectorArb },
  ),
  sectors: fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0, max: SECTORS / 2 }) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: SECTORS + 1 }) },
    { weight: 1, arbitrary: u32Arb },
  ),
  flags: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(0, 1) }, { weight: 1, arbitrary: u32Arb }),
});
const dataLenArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(0, 512, 1024, 2048, 20) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 4096 }) },
);

/** Linux's layout with hostile values: header, data in 1..3 pieces, a status buffer. */
const linuxShapeArb = fc.record({
  kind: fc.constant('linux' as const),
  dataLen: dataLenArb,
  /** Data direction for types without one of their own. */
  dataIn: fc.boolean(),
  /** Data of the length the type asks for (GET_ID 20, FLUSH none, whole sectors), else `dataLen`. */
  proper: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  pieces: fc.integer({ min: 1, max: 3 }),
  statusLen: fc.oneof(
    { weight: 8, arbitrary: fc.constant(1) },
    { weight: 1, arbitrary: fc.constantFrom(0, 2) },
  ),
  segments: fc.oneof(
    { weight: 4, arbitrary: fc.array(segmentArb, { minLength: 1, maxLength: 1 }) },
    { weight: 1, arbitrary: fc.array(segmentArb, { maxLength: 3 }) },
  ),
});
/** Any list of buffers; the readable ones carry the header and then bytes. */
const rawShapeArb = fc.record({
  kind: fc.constant('raw' as const),
  buffers: fc.array(
    fc.record({
      len: fc.oneof(
        { weight: 4, arbitrary: fc.integer({ min: 0, max: 40 }) },
        { weight: 2, arbitrary: fc.integer({ min: 0, max: 1100 }) },
      ),
      write: fc.boolean(),
      outside: fc.oneof(
        { weight: 12, arbitrary: fc.constant(false) },
        { weight: 1, arbitrary: fc.constant(true) },
      ),
    }),
    { maxLength: 5 },
  ),
});
const requestArb = fc.record({
  type: typeArb,
  sector: sectorArb,
  reserved: u32Arb,
  fill: fc.integer({ min: 0, max: 255 }),
  indirect: fc.boolean(),
  shape: fc.oneof({ weight: 3, arbitrary: linuxShapeArb }, { weight: 2, arbitrary: rawShapeArb }),
});
const mostly = (value: boolean) =>
  fc.oneof({ weight: 3, arbitrary: fc.constant(value) }, { weight: 1, arbitrary: fc.constant(!value) });
const caseArb = fc.record({
  readOnly: mostly(false),
  flush: fc.boolean(),
  writeZeroes: mostly(true),
  eventIdx: fc.boolean(),
  requests: fc.array(requestArb, { minLength: 1, maxLength: 8 }),
  /**
   * Heads published after the requests: a posted head again, a descriptor no chain uses (zeroed:
   * one empty readable buffer), or an index outside the ring.
   */
  strays: fc.array(fc.tuple(fc.constantFrom('again', 'unused', 'outside'), fc.nat(1000)), { maxLength: 2 }),
});
type Request = typeof requestArb extends fc.Arbitrary<infer T> ? T : never;

function bytesOf(length: number, fill: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (fill + i * 29) & 0xff;
  return out;
}

/** The first index where `a` and `b` differ (a length too), or -1: vitest's toEqual is slow on bytes. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The buffers a request becomes. */
function buffersOf(r: Request): MockBuffer[] {
  const head = header(r.type, r.sector, r.reserved);
  if (r.shape.kind === 'raw') {
    // Readable buffers carry the header, then bytes; the rest is the device's to write.
    const readable = concat([head, bytesOf(5 * 1100, r.fill)]);
    let at = 0;
    return r.shape.buffers.map((b) => {
      if (b.outside) return { addr: OUTSIDE, len: b.len, write: b.write };
      if (b.write) return { len: b.len, write: true };
      const data = readable.subarray(at, at + b.len);
      at += b.len;
      return { data, len: b.len };
    });
  }
  const s = r.shape;
  let out: Uint8Array | undefined;
  let inLen = 0;
  let dataLen = s.dataLen;
  if (s.proper) {
    if (r.type === VIRTIO_BLK_T_GET_ID) dataLen = 20;
    else if (r.type === VIRTIO_BLK_T_FLUSH) dataLen = 0;
    else dataLen = 512 * (1 + (s.dataLen % 4));
  }
  if (r.type === VIRTIO_BLK_T_IN || r.type === VIRTIO_BLK_T_GET_ID) inLen = dataLen;
  else if (r.type === VIRTIO_BLK_T_FLUSH && s.proper) inLen = 0;
  else if (r.type === VIRTIO_BLK_T_OUT) out = bytesOf(dataLen, r.fill);
  else if (r.type === VIRTIO_BLK_T_WRITE_ZEROES)
    out = concat(s.segments.map((g) => segment(g.sector, g.sectors, g.flags)));
  else if (s.dataIn) inLen = dataLen;
  else out = bytesOf(dataLen, r.fill);
  const pieces = (len: number, write: boolean, data?: Uint8Array): MockBuffer[] => {
    const cut = Array.from({ length: s.pieces }, (_, i) => Math.floor((len * i) / s.pieces)).concat(len);
    return cut
      .slice(0, -1)
      .map((from, i) =>
        write ? { len: cut[i + 1]! - from, write: true } : { data: data!.subarray(from, cut[i + 1]!) },
      );
  };
  return [
    { data: head },
    ...(out === undefined ? [] : pieces(out.length, false, out)),
    ...pieces(inLen, true),
    ...(s.statusLen === 0 ? [] : [{ len: s.statusLen, write: true, data: Uint8Array.of(0xee) }]),
  ];
}

interface Posted {
  head: number;
  readable: Uint8Array;
  writable: Array<{ addr: bigint; len: number }>;
  writableLength: number;
}

describe('virtio-blk fuzzing', () => {
  it(
    'hostile chains: no throw, memory only in the chain, every chain returned, the disk changes only as answered',
    async () => {
      const id = blockSerialId(SERIAL);
      const dir = tempDir();
      const ok = new Map<number, number>();
      let served = 0;
      const property = fc.property(caseArb, (c) => {
        const path = patternImage(SECTORS * 512, dir);
        const model = new Uint8Array(readFileSync(path));
        const raw = GuestMemoryArrayBuffer.fromRanges([{ start: 0n, size: 0x10_0000 }]);
        const mem = new RecordingMemory(raw, { budget: 200_000 });
        const driver = new MockSplitQueue(raw, QUEUE, { eventIdx: c.eventIdx });
        const disk = DiskImage.open(path, { readOnly: c.readOnly });
        const device = new Block(disk, { serial: SERIAL, log: () => undefined });
        let acked = device.availFeatures;
        if (!c.flush) acked &= ~(1n << BigInt(VIRTIO_BLK_F_FLUSH));
        if (!c.writeZeroes) acked &= ~(1n << BigInt(VIRTIO_BLK_F_WRITE_ZEROES));
        device.activate(activationFor(device, mem, driver, new InterruptLog(), acked));

        const posted: Posted[] = [];
        const heads: number[] = [];
        // Descriptors 0..k-1 hold the chains (the mock places them in order); the rest are zero.
        let k = 0;
        for (const r of c.requests) {
          const buffers = buffersOf(r);
          k += r.indirect ? 1 : buffers.length;
          const chain = driver.addChain(buffers, { indirect: r.indirect });
          const readable = concat(buffers.flatMap((b) => (b.write || b.data === undefined ? [] : [b.data])));
          const writable = chain.buffers.filter((b) => b.write).map((b) => ({ addr: b.addr, len: b.len }));
          posted[chain.head] = {
            head: chain.head,
            readable,
            writable,
            writableLength: writable.reduce((n, b) => n + b.len, 0),
          };
          heads.push(chain.head);
        }
        for (const [kind, n] of c.strays) {
          const h =
            kind === 'again'
              ? heads[n % heads.length]!
              : kind === 'unused'
                ? k + (n % (QUEUE - k))
                : QUEUE + n;
          driver.publish(h);
          heads.push(h);
        }

        device.processQueue(0); // must not throw
        const used = driver.takeUsed();

        // Memory: nothing outside guest RAM; writes only to the used ring or writable buffers.
        expect(mem.violations).toEqual([]);
        const usedEnd = driver.usedRing + BigInt(usedRingSize(QUEUE));
        const writableAreas = posted.filter(Boolean).flatMap((p) => p.writable);
        const stray = mem.writes.find((w) => {
          const end = w.addr + BigInt(w.len);
          const inUsed = w.addr >= driver.usedRing && end <= usedEnd;
          return !inUsed && !writableAreas.some((b) => w.addr >= b.addr && end <= b.addr + BigInt(b.len));
        });
        expect(stray).toBeUndefined();

        // Every publication with a head inside the ring comes back, in order.
        const returnable = heads.filter((h) => h < QUEUE);
        expect(used.map((u) => u.id)).toEqual(returnable);
        served += used.length;

        // The disk follows the model of what was answered OK.
        const capacity = BigInt(SECTORS);
        // A chain published twice is served twice; its buffers hold what the last serving wrote.
        const lastServing = new Map(used.map((u, i) => [u.id, i]));
        for (const [i, u] of used.entries()) {
          const p = posted[u.id];
          if (p === undefined) {
            expect(u.len).toBe(0); // an unused descriptor: one empty readable buffer, no status
            continue;
          }
          expect(u.len).toBeLessThanOrEqual(p.writableLength);
          if (u.len === 0) continue;
          const last = p.writable.filter((b) => b.len > 0).at(-1)!;
          const status = raw.readU8(last.addr + BigInt(last.len - 1));
          expect([0, 1, 2]).toContain(status);
          if (status !== VIRTIO_BLK_S_OK) continue;
          const view = new DataView(p.readable.buffer, p.readable.byteOffset, p.readable.byteLength);
          const type = view.getUint32(0, true);
          ok.set(type, (ok.get(type) ?? 0) + 1);
          const sector = view.getBigUint64(8, true);
          const dataIn = p.writableLength - 1;
          if (type === VIRTIO_BLK_T_IN) {
            expect(dataIn % 512).toBe(0);
            expect(sector + BigInt(dataIn / 512)).toBeLessThanOrEqual(capacity);
            expect(u.len).toBe(dataIn + 1);
            const got = new Uint8Array(
              concat(p.writable.map((b) => raw.getSlice(b.addr, b.len))).subarray(0, dataIn),
            );
            const at = Number(sector) * 512;
            if (lastServing.get(u.id) === i)
              expect(
                firstDifference(got, model.subarray(at, at + dataIn)),
                'a read differs from the model at',
              ).toBe(-1);
          } else if (type === VIRTIO_BLK_T_OUT) {
            const data = p.readable.subarray(16);
            expect(c.readOnly).toBe(false);
            expect(u.len).toBe(1);
            expect(data.length % 512).toBe(0);
            expect(sector + BigInt(data.length / 512)).toBeLessThanOrEqual(capacity);
            model.set(data, Number(sector) * 512);
          } else if (type === VIRTIO_BLK_T_WRITE_ZEROES) {
            expect(c.readOnly || !c.writeZeroes).toBe(false);
            expect(p.readable.length).toBe(32);
            const s = view.getBigUint64(16, true);
            const n = view.getUint32(24, true);
            expect(s + BigInt(n)).toBeLessThanOrEqual(capacity);
            model.fill(0, Number(s) * 512, (Number(s) + n) * 512);
          } else if (type === VIRTIO_BLK_T_GET_ID) {
            expect(dataIn).toBe(20);
            expect(u.len).toBe(21);
            const got = concat(p.writable.map((b) => raw.getSlice(b.addr, b.len))).subarray(0, 20);
            expect(firstDifference(got, id), 'the id differs at').toBe(-1);
          } else {
            expect(type).toBe(VIRTIO_BLK_T_FLUSH);
          }
        }
        device.close();
        expect(firstDifference(readFileSync(path), model), 'the image differs from the model at').toBe(-1);
      });
      // In batches, so that the test worker can answer the runner between them on long runs.
      for (let done = 0; done < RUNS; done += BATCH) {
        fc.assert(property, { numRuns: Math.min(BATCH, RUNS - done) });
        await new Promise((resolve) => setImmediate(resolve));
      }
      // The generator reaches the interesting paths: requests served, some of them successfully.
      expect(served).toBeGreaterThanOrEqual(RUNS);
      for (const type of [
        VIRTIO_BLK_T_IN,
        VIRTIO_BLK_T_OUT,
        VIRTIO_BLK_T_FLUSH,
        VIRTIO_BLK_T_GET_ID,
        VIRTIO_BLK_T_WRITE_ZEROES,
      ])
        expect(ok.get(type), `requests of type ${type} answered OK`).toBeGreaterThan(RUNS / 50);
    },
    TIMEOUT,
  );
});
