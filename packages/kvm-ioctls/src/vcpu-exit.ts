/**
 * Why `KVM_RUN` returned, read in place from the vCPU's `kvm_run` page.
 *
 * Each exit kind is one object, allocated once per vCPU and updated on every
 * exit: an exit is valid until the next `run()`. Data views point into the
 * page itself (for port I/O at `kvm_run + io.data_offset`, for MMIO at
 * `mmio.data`), so a device answers a read by writing into `exit.data`, and
 * KVM picks the value up on the next `run()`. Nothing on the port-I/O and
 * MMIO paths allocates once the views for an access size exist.
 */
import {
  KVM_EXIT_DEBUG,
  KVM_EXIT_FAIL_ENTRY,
  KVM_EXIT_HLT,
  KVM_EXIT_INTERNAL_ERROR,
  KVM_EXIT_INTR,
  KVM_EXIT_IO,
  KVM_EXIT_IO_OUT,
  KVM_EXIT_IRQ_WINDOW_OPEN,
  KVM_EXIT_MMIO,
  KVM_EXIT_SHUTDOWN,
  KVM_EXIT_SYSTEM_EVENT,
} from './constants.js';
import { KvmError } from './errors.js';
import { kvm_run } from './structs/kvm-run.js';

/** A guest `in` (or `ins`): fill `data` (`size * count` bytes) with the value read. */
export interface IoInExit {
  readonly kind: 'IoIn';
  /** The port. */
  readonly port: number;
  /** Bytes per access: 1, 2 or 4. */
  readonly size: number;
  /** Number of accesses (more than 1 for a `rep ins`). */
  readonly count: number;
  /** The `size * count` bytes in `kvm_run` that the guest will read. */
  readonly data: Uint8Array;
}

/** A guest `out` (or `outs`): `data` holds the `size * count` bytes written. */
export interface IoOutExit {
  readonly kind: 'IoOut';
  readonly port: number;
  readonly size: number;
  readonly count: number;
  readonly data: Uint8Array;
}

/** A guest load from an address no memory slot backs: fill `data` (1 to 8 bytes). */
export interface MmioReadExit {
  readonly kind: 'MmioRead';
  /** The guest physical address. */
  readonly address: bigint;
  readonly data: Uint8Array;
}

/** A guest store to an address no memory slot backs: `data` holds the 1 to 8 bytes stored. */
export interface MmioWriteExit {
  readonly kind: 'MmioWrite';
  readonly address: bigint;
  readonly data: Uint8Array;
}

/** The guest executed `hlt` (only without an in-kernel irqchip). */
export interface HltExit {
  readonly kind: 'Hlt';
}

/** The guest shut down (a triple fault). */
export interface ShutdownExit {
  readonly kind: 'Shutdown';
}

/** The hardware refused to enter the guest. */
export interface FailEntryExit {
  readonly kind: 'FailEntry';
  readonly hardwareEntryFailureReason: bigint;
  readonly cpu: number;
}

/** KVM could not go on (e.g. the instruction emulator failed: suberror `KVM_INTERNAL_ERROR_EMULATION`). */
export interface InternalErrorExit {
  readonly kind: 'InternalError';
  readonly suberror: number;
  /** `internal.data[0..ndata)`. */
  readonly data: readonly bigint[];
}

/** A system event: shutdown, reset or crash requested by the guest (`KVM_SYSTEM_EVENT_*`). */
export interface SystemEventExit {
  readonly kind: 'SystemEvent';
  readonly type: number;
  /** `system_event.data[0..ndata)` (the flags, on kernels without KVM_CAP_SYSTEM_EVENT_DATA). */
  readonly data: readonly bigint[];
}

/** The guest can take an interrupt now (after `requestInterruptWindow`, without an in-kernel irqchip). */
export interface IrqWindowOpenExit {
  readonly kind: 'IrqWindowOpen';
}

/** A debug exception or breakpoint, with guest debugging enabled (KVM_SET_GUEST_DEBUG). */
export interface DebugExit {
  readonly kind: 'Debug';
  readonly exception: number;
  readonly pc: bigint;
  readonly dr6: bigint;
  readonly dr7: bigint;
}

/** `KVM_RUN` was interrupted by a signal (a kick) or `immediate_exit`, before or while running the guest. */
export interface IntrExit {
  readonly kind: 'Intr';
}

/** Any other exit reason: the VMM decides (rust-vmm's `VcpuExit::Unsupported`). */
export interface UnsupportedExit {
  readonly kind: 'Unsupported';
  /** `kvm_run.exit_reason` (`KVM_EXIT_*`). */
  readonly reason: number;
}

/** Why `KVM_RUN` returned: a union discriminated by `kind`. */
export type VcpuExit =
  | IoInExit
  | IoOutExit
  | MmioReadExit
  | MmioWriteExit
  | HltExit
  | ShutdownExit
  | FailEntryExit
  | InternalErrorExit
  | SystemEventExit
  | IrqWindowOpenExit
  | DebugExit
  | IntrExit
  | UnsupportedExit;

/** The `kind` of a {@link VcpuExit}. */
export type VcpuExitKind = VcpuExit['kind'];

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const at = (path: string): number => kvm_run.offsetOf(path);
const OFF = {
  requestInterruptWindow: at('request_interrupt_window'),
  immediateExit: at('immediate_exit'),
  exitReason: at('exit_reason'),
  readyForInjection: at('ready_for_interrupt_injection'),
  ifFlag: at('if_flag'),
  ioDirection: at('io.direction'),
  ioSize: at('io.size'),
  ioPort: at('io.port'),
  ioCount: at('io.count'),
  ioDataOffset: at('io.data_offset'),
  mmioAddress: at('mmio.phys_addr'),
  mmioData: at('mmio.data'),
  mmioLen: at('mmio.len'),
  mmioIsWrite: at('mmio.is_write'),
  failReason: at('fail_entry.hardware_entry_failure_reason'),
  failCpu: at('fail_entry.cpu'),
  internalSuberror: at('internal.suberror'),
  internalNdata: at('internal.ndata'),
  internalData: at('internal.data'),
  eventType: at('system_event.type'),
  eventNdata: at('system_event.ndata'),
  eventData: at('system_event.data'),
  debugException: at('debug.arch.exception'),
  debugPc: at('debug.arch.pc'),
  debugDr6: at('debug.arch.dr6'),
  debugDr7: at('debug.arch.dr7'),
};
// Indices for the typed-array views used on the hot path.
const EXIT_REASON_32 = OFF.exitReason >> 2;
const IO_PORT_16 = OFF.ioPort >> 1;
const IO_COUNT_32 = OFF.ioCount >> 2;
const IO_DATA_OFFSET_32 = OFF.ioDataOffset >> 2;
const MMIO_ADDRESS_32 = OFF.mmioAddress >> 2;
const MMIO_LEN_32 = OFF.mmioLen >> 2;

/** Data views of one I/O exit object, remade only when the data's place or length changes. */
interface IoState {
  exit: Mutable<IoInExit> | Mutable<IoOutExit>;
  offset: number;
  length: number;
}

/**
 * A view of one vCPU's `kvm_run` page: the exit that `KVM_RUN` left there,
 * and the fields user space sets before the next run.
 */
export class KvmRun {
  /** The mapping of the page (the vCPU fd's mmap). */
  readonly buffer: ArrayBuffer;
  readonly #u8: Uint8Array;
  readonly #u16: Uint16Array;
  readonly #u32: Uint32Array;
  readonly #view: DataView;
  readonly #ioIn: IoState;
  readonly #ioOut: IoState;
  readonly #mmioRead: Mutable<MmioReadExit>;
  readonly #mmioWrite: Mutable<MmioWriteExit>;
  /** `mmio.data` views by length 0..8. */
  readonly #mmioViews: Uint8Array[];
  #mmioLo = -1;
  #mmioHi = -1;
  #mmioAddress = 0n;
  readonly #hlt: HltExit = { kind: 'Hlt' };
  readonly #shutdown: ShutdownExit = { kind: 'Shutdown' };
  readonly #irqWindowOpen: IrqWindowOpenExit = { kind: 'IrqWindowOpen' };
  readonly #intr: IntrExit = { kind: 'Intr' };
  readonly #failEntry: Mutable<FailEntryExit> = { kind: 'FailEntry', hardwareEntryFailureReason: 0n, cpu: 0 };
  readonly #internal: Mutable<InternalErrorExit> = { kind: 'InternalError', suberror: 0, data: [] };
  readonly #event: Mutable<SystemEventExit> = { kind: 'SystemEvent', type: 0, data: [] };
  readonly #debug: Mutable<DebugExit> = { kind: 'Debug', exception: 0, pc: 0n, dr6: 0n, dr7: 0n };
  readonly #unsupported: Mutable<UnsupportedExit> = { kind: 'Unsupported', reason: 0 };

  /** @param buffer - the vCPU fd's mapping, at least `sizeof(struct kvm_run)` bytes */
  constructor(buffer: ArrayBuffer) {
    if (buffer.byteLength < kvm_run.size)
      throw new KvmError(
        'KVM_RUN_MMAP_SIZE',
        `the kvm_run mapping has ${buffer.byteLength} bytes, fewer than the ${kvm_run.size} of struct kvm_run`,
      );
    this.buffer = buffer;
    this.#u8 = new Uint8Array(buffer);
    this.#u16 = new Uint16Array(buffer, 0, buffer.byteLength >> 1);
    this.#u32 = new Uint32Array(buffer, 0, buffer.byteLength >> 2);
    this.#view = new DataView(buffer);
    const empty = this.#u8.subarray(0, 0);
    this.#ioIn = { exit: { kind: 'IoIn', port: 0, size: 0, count: 0, data: empty }, offset: -1, length: -1 };
    this.#ioOut = {
      exit: { kind: 'IoOut', port: 0, size: 0, count: 0, data: empty },
      offset: -1,
      length: -1,
    };
    this.#mmioViews = Array.from({ length: 9 }, (_, n) => this.#u8.subarray(OFF.mmioData, OFF.mmioData + n));
    this.#mmioRead = { kind: 'MmioRead', address: 0n, data: empty };
    this.#mmioWrite = { kind: 'MmioWrite', address: 0n, data: empty };
  }

  /** `kvm_run.immediate_exit`: when set, the next `KVM_RUN` returns at once with EINTR. */
  get immediateExit(): boolean {
    return this.#u8[OFF.immediateExit] !== 0;
  }
  set immediateExit(value: boolean) {
    Atomics.store(this.#u8, OFF.immediateExit, value ? 1 : 0);
  }

  /** `kvm_run.request_interrupt_window`: ask for an IrqWindowOpen exit when the guest can take an interrupt. */
  get requestInterruptWindow(): boolean {
    return this.#u8[OFF.requestInterruptWindow] !== 0;
  }
  set requestInterruptWindow(value: boolean) {
    this.#u8[OFF.requestInterruptWindow] = value ? 1 : 0;
  }

  /** `kvm_run.ready_for_interrupt_injection` after the last exit. */
  get readyForInterruptInjection(): boolean {
    return this.#u8[OFF.readyForInjection] !== 0;
  }

  /** `kvm_run.if_flag`: the guest's RFLAGS.IF after the last exit. */
  get ifFlag(): boolean {
    return this.#u8[OFF.ifFlag] !== 0;
  }

  /** `kvm_run.exit_reason` of the last exit (`KVM_EXIT_*`). */
  get exitReason(): number {
    return this.#u32[EXIT_REASON_32]!;
  }

  /** The exit object for a `KVM_RUN` that returned EINTR. */
  intr(): IntrExit {
    return this.#intr;
  }

  /** Decodes the exit `KVM_RUN` just left in the page. */
  decode(): VcpuExit {
    const reason = this.#u32[EXIT_REASON_32]!;
    switch (reason) {
      case KVM_EXIT_IO:
        return this.#io();
      case KVM_EXIT_MMIO:
        return this.#mmio();
      case KVM_EXIT_HLT:
        return this.#hlt;
      case KVM_EXIT_SHUTDOWN:
        return this.#shutdown;
      case KVM_EXIT_IRQ_WINDOW_OPEN:
        return this.#irqWindowOpen;
      case KVM_EXIT_INTR:
        return this.#intr;
      case KVM_EXIT_FAIL_ENTRY: {
        const e = this.#failEntry;
        e.hardwareEntryFailureReason = this.#view.getBigUint64(OFF.failReason, true);
        e.cpu = this.#view.getUint32(OFF.failCpu, true);
        return e;
      }
      case KVM_EXIT_INTERNAL_ERROR: {
        const e = this.#internal;
        e.suberror = this.#view.getUint32(OFF.internalSuberror, true);
        e.data = this.#u64List(OFF.internalNdata, OFF.internalData);
        return e;
      }
      case KVM_EXIT_SYSTEM_EVENT: {
        const e = this.#event;
        e.type = this.#view.getUint32(OFF.eventType, true);
        e.data = this.#u64List(OFF.eventNdata, OFF.eventData);
        return e;
      }
      case KVM_EXIT_DEBUG: {
        const e = this.#debug;
        e.exception = this.#view.getUint32(OFF.debugException, true);
        e.pc = this.#view.getBigUint64(OFF.debugPc, true);
        e.dr6 = this.#view.getBigUint64(OFF.debugDr6, true);
        e.dr7 = this.#view.getBigUint64(OFF.debugDr7, true);
        return e;
      }
      default:
        return this.#unsupportedExit(reason);
    }
  }

  #unsupportedExit(reason: number): UnsupportedExit {
    this.#unsupported.reason = reason;
    return this.#unsupported;
  }

  #io(): IoInExit | IoOutExit | UnsupportedExit {
    const u8 = this.#u8;
    const state = u8[OFF.ioDirection] === KVM_EXIT_IO_OUT ? this.#ioOut : this.#ioIn;
    const e = state.exit;
    const size = u8[OFF.ioSize]!;
    const count = this.#u32[IO_COUNT_32]!;
    const length = size * count;
    const offset = this.#u32[IO_DATA_OFFSET_32]!;
    // data_offset is a u64 relative to kvm_run; data outside the mapping cannot come from a sane kernel.
    if (this.#u32[IO_DATA_OFFSET_32 + 1] !== 0 || offset + length > u8.length)
      return this.#unsupportedExit(KVM_EXIT_IO);
    e.port = this.#u16[IO_PORT_16]!;
    e.size = size;
    e.count = count;
    if (offset !== state.offset || length !== state.length) {
      e.data = u8.subarray(offset, offset + length);
      state.offset = offset;
      state.length = length;
    }
    return e;
  }

  #mmio(): MmioReadExit | MmioWriteExit {
    const e = this.#u8[OFF.mmioIsWrite] !== 0 ? this.#mmioWrite : this.#mmioRead;
    const lo = this.#u32[MMIO_ADDRESS_32]!;
    const hi = this.#u32[MMIO_ADDRESS_32 + 1]!;
    if (lo !== this.#mmioLo || hi !== this.#mmioHi) {
      // Repeated accesses to one register reuse the bigint instead of allocating one per exit.
      this.#mmioAddress = (BigInt(hi) << 32n) | BigInt(lo);
      this.#mmioLo = lo;
      this.#mmioHi = hi;
    }
    e.address = this.#mmioAddress;
    e.data = this.#mmioViews[Math.min(this.#u32[MMIO_LEN_32]!, 8)]!;
    return e;
  }

  #u64List(countAt: number, dataAt: number): bigint[] {
    const n = Math.min(this.#view.getUint32(countAt, true), 16);
    const out = new Array<bigint>(n);
    for (let i = 0; i < n; i++) out[i] = this.#view.getBigUint64(dataAt + 8 * i, true);
    return out;
  }
}
