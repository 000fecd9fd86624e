/**
 * Fuzzing the network device with hostile transmit and receive chains
 * (fast-check), in the harness of `@tsvmm/virtio-queue` (`MockSplitQueue`
 * posts them, `RecordingMemory` watches the device's accesses), over a real
 * TAP in a network namespace of its own whose kernel answers the pings among
 * the frames. Chains are shaped like Linux's (a header, a frame in pieces,
 * 1530-byte receive buffers) with hostile lengths and contents, or are
 * arbitrary buffer lists (short, zero-length, in the wrong direction, outside
 * guest memory, in more pieces than `readv` takes), direct or indirect, with
 * stray head indexes published too. For every case:
 *
 * - nothing is thrown past the device, and it terminates within an access budget;
 * - every access lies in guest memory, and guest memory changes only in the
 *   used rings and in device-writable buffers of posted receive chains (the
 *   kernel writes frames there through views, so memory is compared whole);
 * - every transmit publication with a head inside the ring is returned, once,
 *   in order, with used length 0; every well-formed frame reaches the TAP;
 * - receive chains come back in the order they were published, each with a
 *   used length no larger than its writable part, and each with a frame
 *   carries the header Linux expects and an answer to a ping that was sent.
 *
 * The ordinary suite runs a few hundred cases; `VIRTIO_DEVICES_FUZZ_RUNS`
 * sets more (the package's `fuzz` script).
 */
import { type MockBuffer, MockSplitQueue, RecordingMemory } from '@tsvmm/virtio-queue/testing';
import { GuestMemoryArrayBuffer } from '@tsvmm/vm-memory';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Net } from '../../src/net/device.js';
import type { Tap } from '../../src/net/tap.js';
import { echoRequest, parseFrame } from './frames.js';
import { activate } from './harness.js';
import { GUEST_IP, PEER_IP, type TestNetns, tapInNetns } from './netns.js';

const RUNS = Number(process.env.VIRTIO_DEVICES_FUZZ_RUNS ?? 300);
const TIMEOUT = Math.max(60_000, RUNS * 30);
const QUEUE = 64;
const RAM = 0x10_0000; // 1 MiB at 0
const OUTSIDE = 0xfff_0000n;
const GUEST_MAC = '02:00:00:00:00:02';
const RX_HEADER = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0];

let ns: TestNetns;
let tap: Tap;
let peerMac: string;

beforeAll(() => {
  ({ ns, tap, peerMac } = tapInNetns(GUEST_MAC));
});

afterAll(() => {
  tap?.close();
  ns?.remove();
});

const lenArb = (max: number) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: 0, max: 40 }) },
    { weight: 3, arbitrary: fc.integer({ min: 0, max: max }) },
  );
/** An arbitrary buffer list, mostly inside guest memory. */
const rawBuffersArb = fc.array(
  fc.record({
    len: lenArb(2000),
    write: fc.boolean(),
    outside: fc.oneof(
      { weight: 12, arbitrary: fc.constant(false) },
      { weight: 1, arbitrary: fc.constant(true) },
    ),
  }),
  { maxLength: 5 },
);
/** A frame: a ping the peer answers (most), or any bytes. */
const frameArb = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.nat(0xffff), fc.uint8Array({ maxLength: 1400 }))
      .map(([seq, data]) => ({ ping: seq, bytes: seqPing(seq, data) })),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 1600 }).map((bytes) => ({ ping: -1, bytes })) },
);
const txArb = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('frame' as const),
      frame: frameArb,
      headerLen: fc.oneof(
        { weight: 6, arbitrary: fc.constant(12) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 16 }) },
      ),
      pieces: fc.integer({ min: 1, max: 4 }),
      indirect: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('raw' as const),
      buffers: rawBuffersArb,
      indirect: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'many' as const }) },
);
const rxArb = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('linux' as const),
      pieces: fc.integer({ min: 1, max: 3 }),
      indirect: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('raw' as const),
      buffers: rawBuffersArb,
      indirect: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'many' as const }) },
);
const straysArb = fc.array(fc.tuple(fc.constantFrom('again', 'unused', 'outside'), fc.nat(1000)), {
  maxLength: 2,
});
const caseArb = fc.record({
  eventIdx: fc.boolean(),
  rx: fc.array(rxArb, { maxLength: 8 }),
  rxStrays: straysArb,
  tx: fc.array(txArb, { maxLength: 8 }),
  txStrays: straysArb,
});
type Tx = typeof txArb extends fc.Arbitrary<infer T> ? T : never;
type Rx = typeof rxArb extends fc.Arbitrary<infer T> ? T : never;

function seqPing(seq: number, data: Uint8Array): Uint8Array {
  return echoRequest(
    { srcMac: GUEST_MAC, dstMac: peerMac, srcIp: GUEST_IP, dstIp: PEER_IP },
    0xf022,
    seq,
    data,
  );
}

/** `len` bytes cut into `pieces` buffers. */
function cut(bytes: Uint8Array, pieces: number): MockBuffer[] {
  const at = Array.from({ length: pieces + 1 }, (_, i) => Math.floor((bytes.length * i) / pieces));
  return at.slice(0, -1).map((from, i) => ({ data: bytes.subarray(from, at[i + 1]!) }));
}

function rawBuffers(buffers: typeof rawBuffersArb extends fc.Arbitrary<infer T> ? T : never): MockBuffer[] {
  return buffers.map((b) =>
    b.outside
      ? { addr: OUTSIDE, len: b.len, write: b.write }
      : { len: b.len, write: b.write, data: new Uint8Array(b.len).fill(0x5a) },
  );
}

function txBuffers(t: Tx): MockBuffer[] {
  if (t.kind === 'raw') return rawBuffers(t.buffers);
  if (t.kind === 'many') return Array.from({ length: 1100 }, () => ({ data: new Uint8Array(2).fill(1) }));
  const bytes = new Uint8Array(t.headerLen + t.frame.bytes.length);
  bytes.set(t.frame.bytes, t.headerLen);
  return cut(bytes, t.pieces);
}

function rxBuffers(r: Rx): MockBuffer[] {
  if (r.kind === 'raw') return rawBuffers(r.buffers);
  if (r.kind === 'many') return Array.from({ length: 1100 }, () => ({ len: 2, write: true }));
  return cut(new Uint8Array(1530), r.pieces).map((b) => ({ len: b.data!.length, write: true }));
}

/** Publishes stray heads after the chains: a posted head again, a descriptor no chain uses, one outside the ring. */
function publishStrays(
  q: MockSplitQueue,
  strays: Array<[string, number]>,
  heads: number[],
  usedDescs: number,
): void {
  for (const [kind, n] of strays) {
    if (kind === 'again' && heads.length === 0) continue;
    const h =
      kind === 'again'
        ? heads[n % heads.length]!
        : kind === 'unused'
          ? usedDescs + (n % (QUEUE - usedDescs))
          : QUEUE + n;
    q.publish(h);
    heads.push(h);
  }
}

describe('virtio-net fuzzing', () => {
  it(
    'hostile chains: no throw, memory only in the rings and receive buffers, chains returned in order, frames whole',
    () => {
      let framesOut = 0;
      let framesIn = 0;
      fc.assert(
        fc.property(caseArb, (c) => {
          const raw = GuestMemoryArrayBuffer.fromRanges([{ start: 0n, size: RAM }]);
          const mem = new RecordingMemory(raw, { budget: 400_000 });
          const rxq = new MockSplitQueue(raw, QUEUE, {
            base: 0x1000n,
            dataBase: 0x10000n,
            eventIdx: c.eventIdx,
          });
          const txq = new MockSplitQueue(raw, QUEUE, {
            base: 0x4000n,
            dataBase: 0x80000n,
            eventIdx: c.eventIdx,
          });

          // The driver posts its chains.
          const rxHeads: number[] = [];
          const rxWritable = new Map<number, Array<{ addr: bigint; len: number }>>();
          let rxDescs = 0;
          for (const r of c.rx) {
            const buffers = rxBuffers(r);
            const indirect = r.kind === 'many' || r.indirect;
            const chain = rxq.addChain(buffers, { indirect });
            rxDescs += indirect ? 1 : buffers.length;
            rxHeads.push(chain.head);
            rxWritable.set(
              chain.head,
              chain.buffers
                .filter((b) => b.write && b.addr !== OUTSIDE)
                .map((b) => ({ addr: b.addr, len: b.len })),
            );
          }
          const txHeads: number[] = [];
          const pings = new Set<number>();
          let wellFormed = 0;
          let txDescs = 0;
          for (const t of c.tx) {
            const buffers = txBuffers(t);
            const indirect = t.kind === 'many' || t.indirect;
            txHeads.push(txq.addChain(buffers, { indirect }).head);
            txDescs += indirect ? 1 : buffers.length;
            if (t.kind === 'frame' && t.headerLen === 12 && t.frame.bytes.length >= 14) {
              wellFormed++;
              if (t.frame.ping >= 0) pings.add(t.frame.ping);
            }
          }
          if (rxDescs > QUEUE || txDescs > QUEUE) return; // more than a ring holds: not a case
          publishStrays(rxq, c.rxStrays, rxHeads, rxDescs);
          publishStrays(txq, c.txStrays, txHeads, txDescs);

          const before = Buffer.from(raw.getSlice(0n, RAM)); // a copy

          const net = new Net(tap, { mac: GUEST_MAC, log: () => undefined });
          const activated = activate(net, { memory: mem, rx: rxq, tx: txq });
          try {
            net.processQueue(1);
            net.processQueue(0);
            activated.loop.run(0);
          } finally {
            activated[Symbol.dispose]();
          }

          // Memory: nothing outside guest RAM; changes only in the used rings and receive buffers.
          expect(mem.violations).toEqual([]);
          const allowed = [
            ...[rxq, txq].map((q) => ({ addr: q.usedRing, len: 6 + 8 * QUEUE })),
            ...[...rxWritable.values()].flat(),
          ];
          const after = Buffer.from(raw.getSlice(0n, RAM));
          for (let page = 0; page < RAM; page += 4096) {
            if (after.subarray(page, page + 4096).equals(before.subarray(page, page + 4096))) continue;
            for (let i = page; i < page + 4096; i++) {
              if (before[i] === after[i]) continue;
              const a = BigInt(i);
              const ok = allowed.some((b) => a >= b.addr && a < b.addr + BigInt(b.len));
              expect(ok, `guest memory changed at 0x${i.toString(16)}`).toBe(true);
            }
          }

          // Transmit: every publication with a head in the ring, in order, length 0.
          const txUsed = txq.takeUsed();
          expect(txUsed.map((u) => u.id)).toEqual(txHeads.filter((h) => h < QUEUE));
          for (const u of txUsed) expect(u.len).toBe(0);
          expect(net.metrics.txFrames).toBeGreaterThanOrEqual(wellFormed);
          framesOut += net.metrics.txFrames;

          // Receive: a prefix of the publications, in order; frames whole, with Linux's header.
          const rxUsed = rxq.takeUsed();
          const returnable = rxHeads.filter((h) => h < QUEUE);
          expect(rxUsed.map((u) => u.id)).toEqual(returnable.slice(0, rxUsed.length));
          for (const u of rxUsed) {
            if (u.len === 0) continue;
            const buffers = rxWritable.get(u.id)!;
            expect(u.len).toBeLessThanOrEqual(buffers.reduce((n, b) => n + b.len, 0));
            // A head published twice is one set of buffers: the later frame overwrote the earlier.
            if (rxHeads.indexOf(u.id) !== rxHeads.lastIndexOf(u.id)) continue;
            const bytes = new Uint8Array(
              buffers.flatMap((b) => [...raw.getSlice(b.addr, b.len)]).slice(0, u.len),
            );
            expect([...bytes.subarray(0, 12)]).toEqual(RX_HEADER);
            const icmp = parseFrame(bytes.subarray(12))?.icmp;
            expect(icmp?.type).toBe(0);
            expect(icmp?.id).toBe(0xf022);
            expect(pings.has(icmp!.seq)).toBe(true);
            framesIn++;
          }
          // Replies this case did not take must not reach the next one.
          const sink = [new Uint8Array(65_536)];
          while (tap.read(sink) !== undefined);
        }),
        { numRuns: RUNS },
      );
      // The generator reaches the interesting paths: frames went out and came back.
      expect(framesOut).toBeGreaterThan(RUNS);
      expect(framesIn).toBeGreaterThan(RUNS / 4);
    },
    TIMEOUT,
  );
});
