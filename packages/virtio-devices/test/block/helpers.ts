/**
 * Test bench for the block device: a real image file in a temporary
 * directory, guest memory, and a MockSplitQueue driver that posts requests
 * the way Linux's virtio_blk lays them out (or any other way).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MockBuffer, type MockChain, MockSplitQueue, type MockUsed } from '@tsvmm/virtio-queue/testing';
import { type GuestMemory, GuestMemoryArrayBuffer } from '@tsvmm/vm-memory';
import { afterEach } from 'vitest';
import { Block, type BlockOptions, DiskImage } from '../../src/block/index.js';
import type { VirtioActivation } from '../../src/device.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh temporary directory, removed after the test. */
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsvmm-blk-'));
  dirs.push(d);
  return d;
}

/** The byte at `offset` of a {@link patternImage}: varies within and across sectors. */
export function patternByte(offset: number): number {
  return (offset * 7 + Math.floor(offset / 512) * 13 + 1) & 0xff;
}

/** Writes an image of `size` bytes filled with {@link patternByte}; returns its path. */
export function patternImage(size: number, dir = tempDir()): string {
  const path = join(dir, 'disk.img');
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = patternByte(i);
  writeFileSync(path, data);
  return path;
}

/** The 16-byte request header `struct virtio_blk_outhdr`. */
export function header(type: number, sector: bigint | number = 0n, reserved = 0): Uint8Array {
  const h = new Uint8Array(16);
  const v = new DataView(h.buffer);
  v.setUint32(0, type, true);
  v.setUint32(4, reserved, true);
  v.setBigUint64(8, BigInt(sector), true);
  return h;
}

/** One `struct virtio_blk_discard_write_zeroes` segment. */
export function segment(sector: bigint | number, sectors: number, flags = 0): Uint8Array {
  const s = new Uint8Array(16);
  const v = new DataView(s.buffer);
  v.setBigUint64(0, BigInt(sector), true);
  v.setUint32(8, sectors, true);
  v.setUint32(12, flags, true);
  return s;
}

/** A posted request: where its buffers went, to read the device's answer back. */
export interface Posted {
  readonly chain: MockChain;
  /** The status byte (the last byte of the last writable buffer), or undefined if there is none. */
  status(): number | undefined;
  /** The device-writable data before the status byte. */
  dataIn(): Uint8Array;
}

/** Records what the device raised. */
export class InterruptLog {
  used: number[] = [];
  config = 0;
  signalUsedQueue(queueIndex: number): void {
    this.used.push(queueIndex);
  }
  signalConfigChange(): void {
    this.config++;
  }
}

/** What the transport hands a block device's `activate`: `driver`'s queue over `memory`. */
export function activationFor(
  device: Block,
  memory: GuestMemory,
  driver: MockSplitQueue,
  interrupts: InterruptLog,
  ackedFeatures: bigint,
): VirtioActivation {
  const fail = (): never => {
    throw new Error('the block device has no extra descriptors to poll and never changes its configuration');
  };
  return {
    memory,
    queues: [driver.createQueue()],
    ackedFeatures,
    interrupt: interrupts,
    eventLoop: { add: fail, modify: fail, remove: fail },
    config: {
      length: device.configSpace.length,
      read: (offset, length) => device.configSpace.slice(offset, offset + length),
      write: fail,
    },
  };
}

/** What {@link BlockBench} sets up. */
export interface BenchOptions extends BlockOptions {
  /** Image size in bytes; default 64 KiB. */
  size?: number;
  /** Open the image read-only. */
  readOnly?: boolean;
  /** Features the driver accepts; default all the device offers. */
  acked?: (offered: bigint) => bigint;
  /** Negotiate EVENT_IDX on the queue. */
  eventIdx?: boolean;
  /** Queue size of the mock driver (≤ the device's). Default 16. */
  driverQueueSize?: number;
  /** The memory to use (e.g. a RecordingMemory); default 1 MiB at 0. */
  memory?: (mem: GuestMemoryArrayBuffer) => GuestMemory;
}

/** A block device over a pattern image, activated by a mock driver. */
export class BlockBench {
  readonly path: string;
  readonly disk: DiskImage;
  readonly device: Block;
  readonly raw: GuestMemoryArrayBuffer;
  readonly mem: GuestMemory;
  readonly driver: MockSplitQueue;
  readonly interrupts = new InterruptLog();
  readonly logs: string[] = [];

  constructor(options: BenchOptions = {}) {
    this.path = patternImage(options.size ?? 64 * 1024);
    this.disk = DiskImage.open(this.path, { readOnly: options.readOnly ?? false });
    this.device = new Block(this.disk, { ...options, log: (m) => this.logs.push(m) });
    this.raw = GuestMemoryArrayBuffer.fromRanges([{ start: 0n, size: 0x10_0000 }]);
    this.mem = options.memory?.(this.raw) ?? this.raw;
    this.driver = new MockSplitQueue(this.raw, options.driverQueueSize ?? 16, {
      eventIdx: options.eventIdx ?? false,
    });
    const offered = this.device.availFeatures;
    this.device.activate(this.activation((options.acked ?? ((f) => f))(offered)));
  }

  /** What the transport hands `activate`. */
  activation(ackedFeatures: bigint): VirtioActivation {
    return activationFor(this.device, this.mem, this.driver, this.interrupts, ackedFeatures);
  }

  /** Posts a chain of raw buffers. */
  post(buffers: MockBuffer[], options: { indirect?: boolean } = {}): Posted {
    const chain = this.driver.addChain(buffers, options);
    const writable = chain.buffers.filter((b) => b.write && b.len > 0);
    const last = writable.at(-1);
    return {
      chain,
      status: () => (last === undefined ? undefined : this.raw.readU8(last.addr + BigInt(last.len - 1))),
      dataIn: () => {
        const parts = writable.map((b) => this.raw.getSlice(b.addr, b.len));
        const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
        let at = 0;
        for (const p of parts) {
          all.set(p, at);
          at += p.length;
        }
        return all.subarray(0, Math.max(0, all.length - 1));
      },
    };
  }

  /** Posts a request as Linux lays it out: header, data (readable or writable), status. */
  request(type: number, sector: bigint | number, data: { out?: Uint8Array; in?: number } = {}): Posted {
    const buffers: MockBuffer[] = [{ data: header(type, sector) }];
    if (data.out !== undefined) buffers.push({ data: data.out });
    if (data.in !== undefined) buffers.push({ len: data.in, write: true });
    buffers.push({ len: 1, write: true, data: Uint8Array.of(0xff) });
    return this.post(buffers);
  }

  /** Lets the device serve its queue and returns what it used. */
  run(): MockUsed[] {
    this.device.processQueue(0);
    return this.driver.takeUsed();
  }
}
