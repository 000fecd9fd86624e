/**
 * What the network device tests put around a {@link Net}: the transport's
 * side of an activation (recording interrupts, a configuration space, a real
 * epoll loop over the TAP) and the guest's side, a driver over two
 * `MockSplitQueue`s that posts receive buffers and sends frames.
 */
import type { VirtQueue } from '@tsvmm/virtio-queue';
import { MockSplitQueue } from '@tsvmm/virtio-queue/testing';
import { type GuestMemory, GuestMemoryArrayBuffer } from '@tsvmm/vm-memory';
import { Epoll, SysError } from '@tsvmm/vmm-sys-util';
import type { VirtioConfigSpace, VirtioEventHandler, VirtioEventLoop } from '../../src/device.js';
import { VirtioDevicesError } from '../../src/errors.js';
import type { Net } from '../../src/net/device.js';
import { Tap } from '../../src/net/tap.js';
import { RecordingInterrupt } from '../support/activation.js';

/** An event loop over a real epoll, run by the test: {@link TestEventLoop.run} handles what is ready. */
export class TestEventLoop implements VirtioEventLoop, Disposable {
  readonly epoll = new Epoll();
  readonly handlers = new Map<number, VirtioEventHandler>();

  add(fd: number, events: number, handler: VirtioEventHandler): void {
    this.epoll.add(fd, events, fd);
    this.handlers.set(fd, handler);
  }
  modify(fd: number, events: number): void {
    this.epoll.modify(fd, events, fd);
  }
  remove(fd: number): void {
    this.epoll.remove(fd);
    this.handlers.delete(fd);
  }
  /** Waits up to `timeoutMs` and runs the handlers of ready descriptors; returns how many were ready. */
  run(timeoutMs: number): number {
    return this.epoll.wait(timeoutMs, (events, fd) => this.handlers.get(fd)?.(events));
  }
  [Symbol.dispose](): void {
    this.epoll.close();
  }
}

/** A configuration space in a byte array, with its generation counter. */
export class TestConfigSpace implements VirtioConfigSpace {
  readonly bytes: Uint8Array;
  generation = 0;
  constructor(initial: Uint8Array) {
    this.bytes = initial.slice();
  }
  get length(): number {
    return this.bytes.length;
  }
  read(offset: number, length: number): Uint8Array {
    return this.bytes.slice(offset, offset + length);
  }
  write(offset: number, data: Uint8Array): void {
    if (offset < 0 || offset + data.length > this.bytes.length) throw new RangeError('outside the space');
    this.bytes.set(data, offset);
    this.generation++;
  }
}

/** The length of the receive buffers Linux posts without offloads: header + 1518. */
export const LINUX_RX_BUFFER = 12 + 1518;
const SLOT = 0x800; // one buffer slot: room for a header and a 1518-byte frame, or a sent frame

/** A received frame: the header the device wrote and the frame after it. */
export interface Received {
  readonly head: number;
  readonly header: Uint8Array;
  readonly frame: Uint8Array;
}

/** Options of {@link GuestNic}. */
export interface GuestNicOptions {
  queueSize?: number;
  eventIdx?: boolean;
  memory?: GuestMemory;
}

/**
 * The guest's driver: a receive and a transmit queue in 16 MiB of test
 * memory, each chain in a buffer slot of its own (slots are reused in ring
 * order, so at most a queue size of chains may be outstanding, as in a real
 * ring).
 */
export class GuestNic {
  readonly memory: GuestMemory;
  readonly rx: MockSplitQueue;
  readonly tx: MockSplitQueue;
  readonly size: number;
  /** Where each outstanding receive chain's buffers are: head → [addr, len][]. */
  readonly #rxBuffers = new Map<number, Array<[bigint, number]>>();
  #rxSlot = 0;
  #txSlot = 0;

  constructor(options: GuestNicOptions = {}) {
    this.size = options.queueSize ?? 256;
    this.memory = options.memory ?? GuestMemoryArrayBuffer.fromRanges([{ start: 0n, size: 16 << 20 }]);
    const eventIdx = options.eventIdx ?? false;
    this.rx = new MockSplitQueue(this.memory, this.size, { base: 0x1000n, eventIdx });
    this.tx = new MockSplitQueue(this.memory, this.size, { base: 0x40000n, eventIdx });
  }

  #rxAddr(): bigint {
    return 0x100000n + BigInt(SLOT * (this.#rxSlot++ % this.size));
  }
  #txAddr(): bigint {
    return 0x800000n + BigInt(SLOT * (this.#txSlot++ % this.size));
  }

  /**
   * Posts `count` receive chains, each one writable buffer of `layout` bytes,
   * or buffers of the lengths `layout` lists (at most 2 KiB in all).
   */
  postRx(count: number, layout: number | readonly number[] = LINUX_RX_BUFFER): void {
    const lengths = typeof layout === 'number' ? [layout] : layout;
    for (let i = 0; i < count; i++) {
      let addr = this.#rxAddr();
      const buffers = lengths.map((len) => {
        const b = { addr, len, write: true };
        addr += BigInt(len);
        return b;
      });
      const { head } = this.rx.addChain(buffers);
      this.#rxBuffers.set(
        head,
        buffers.map((b) => [b.addr, b.len]),
      );
    }
  }

  /** Sends `frame` behind a zero header, in one buffer or split across `pieces`. */
  send(frame: Uint8Array, pieces = 1): number {
    const bytes = new Uint8Array(12 + frame.length);
    bytes.set(frame, 12);
    const base = this.#txAddr();
    const part = Math.ceil(bytes.length / pieces);
    const buffers = Array.from({ length: pieces }, (_, p) => {
      const data = bytes.subarray(p * part, Math.min(bytes.length, (p + 1) * part));
      return { addr: base + BigInt(p * part), data, len: data.length };
    });
    return this.tx.addChain(buffers).head;
  }

  /** The receive chains the device returned since the last call, read back. */
  received(): Received[] {
    return this.rx.takeUsed().map(({ id, len }) => {
      const buffers = this.#rxBuffers.get(id);
      if (buffers === undefined)
        throw new Error(`the device returned receive chain ${id}, which was not posted`);
      this.#rxBuffers.delete(id);
      const bytes = new Uint8Array(len);
      let at = 0;
      for (const [addr, blen] of buffers) {
        const k = Math.min(blen, len - at);
        if (k <= 0) break;
        this.memory.readSlice(addr, bytes.subarray(at, at + k));
        at += k;
      }
      if (at !== len) throw new Error(`chain ${id}: used length ${len} is longer than its buffers`);
      return { head: id, header: bytes.slice(0, 12), frame: bytes.slice(12) };
    });
  }

  /** How many receive chains are posted and not yet returned. */
  get rxOutstanding(): number {
    return this.#rxBuffers.size;
  }
}

/** What {@link activate} set up. */
export interface Activated extends Disposable {
  readonly loop: TestEventLoop;
  readonly interrupt: RecordingInterrupt;
  readonly config: TestConfigSpace;
  /** What the transport does when the driver resets the device: `net.reset()`, and its descriptors leave the loop. */
  reset(): void;
}

/** A driver's two queues in its memory ({@link GuestNic} is one). */
export interface NetDriver {
  readonly memory: GuestMemory;
  readonly rx: MockSplitQueue;
  readonly tx: MockSplitQueue;
}

/**
 * Activates `net` for `nic` with every offered feature accepted, and both
 * queues ready unless `queues` are given. Disposing it resets the device and
 * closes the loop.
 */
export function activate(net: Net, nic: NetDriver, queues?: VirtQueue[]): Activated {
  const loop = new TestEventLoop();
  const interrupt = new RecordingInterrupt();
  const config = new TestConfigSpace(net.configSpace);
  net.activate({
    memory: nic.memory,
    queues: queues ?? [nic.rx.createQueue(), nic.tx.createQueue()],
    ackedFeatures: net.availFeatures,
    interrupt,
    eventLoop: loop,
    config,
  });
  const reset = () => {
    net.reset();
    for (const fd of [...loop.handlers.keys()]) loop.remove(fd);
  };
  return {
    loop,
    interrupt,
    config,
    reset,
    [Symbol.dispose]() {
      reset();
      loop[Symbol.dispose]();
    },
  };
}

/**
 * The test's TAP with writes that fail on demand, for the two outcomes a
 * real TAP gives only under conditions a test cannot arrange: `EAGAIN` (a
 * write to a TAP never waits for room here: the kernel releases a frame's
 * memory as soon as its network stack takes the frame) and errors other
 * than those of a well-formed frame. Every other write reaches the real TAP.
 * It shares the descriptor of `tap`, which keeps owning it.
 */
export class FaultyTap extends Tap {
  /** What the next writes do, in order: `'EAGAIN'` (returns undefined) or an errno to throw. */
  readonly faults: Array<'EAGAIN' | number> = [];
  /** Frames that reached the real TAP. */
  written = 0;

  constructor(tap: Tap) {
    super(tap.fd, tap.name);
  }

  override write(buffers: readonly Uint8Array[]): number | undefined {
    const fault = this.faults.shift();
    if (fault === 'EAGAIN') return undefined;
    if (fault !== undefined)
      throw new VirtioDevicesError('BACKEND_IO', 'injected', { cause: new SysError(fault, 'writev') });
    this.written++;
    return super.write(buffers);
  }

  override close(): void {
    // the descriptor belongs to the tap this one was made from
  }
}
