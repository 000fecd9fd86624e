/** What the mock drivers share: buffer descriptions and a bump allocator for buffer memory. */
import type { GuestMemory } from '@tsvmm/vm-memory';
import type { VirtQueue } from '../queue.js';

/** One buffer of a chain a mock driver adds. */
export interface MockBuffer {
  /** Length in bytes; default `data.length`, else 0. */
  len?: number;
  /** Device-writable; default false. */
  write?: boolean;
  /** Bytes to put in the buffer (device-readable buffers). */
  data?: Uint8Array;
  /** Where the buffer is; default: allocated from the mock's data area. */
  addr?: bigint;
}

/** A chain as a mock driver laid it out. */
export interface MockChain {
  /** What the device will report: the head index (split) or the buffer id (packed). */
  readonly head: number;
  /** Where each buffer went. */
  readonly buffers: ReadonlyArray<{ readonly addr: bigint; readonly len: number; readonly write: boolean }>;
}

/** A used element as the driver reads it back. */
export interface MockUsed {
  readonly id: number;
  readonly len: number;
}

/** Bump allocation of buffer memory, 16-aligned, from `next` on. */
export class DataArea {
  #next: bigint;
  constructor(start: bigint) {
    this.#next = start;
  }

  /** Reserves `len` bytes (at least 1) and returns their address. */
  alloc(len: number): bigint {
    const at = this.#next;
    this.#next += BigInt(Math.max(16, Math.ceil(len / 16) * 16));
    return at;
  }

  /** Places each buffer (allocating where no address is given) and copies in its data. */
  place(
    mem: GuestMemory,
    buffers: readonly MockBuffer[],
  ): Array<{ addr: bigint; len: number; write: boolean }> {
    return buffers.map((b) => {
      const len = b.len ?? b.data?.length ?? 0;
      const addr = b.addr ?? this.alloc(len);
      if (b.data !== undefined) mem.writeSlice(addr, b.data.subarray(0, Math.min(len, b.data.length)));
      return { addr, len, write: b.write ?? false };
    });
  }
}

/** Points a device queue at a mock driver's three areas, sets its size and EVENT_IDX, and makes it ready. */
export function configureQueue<Q extends VirtQueue>(
  queue: Q,
  size: number,
  areas: readonly [desc: bigint, driver: bigint, device: bigint],
  eventIdx: boolean,
): Q {
  const [desc, driver, device] = areas.map((a) => [Number(a & 0xffffffffn), Number(a >> 32n)] as const);
  queue.setSize(size);
  queue.setDescTableAddress(...desc!);
  queue.setAvailRingAddress(...driver!);
  queue.setUsedRingAddress(...device!);
  queue.setEventIdx(eventIdx);
  queue.setReady(true);
  return queue;
}
