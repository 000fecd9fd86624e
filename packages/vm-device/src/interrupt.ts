/**
 * Interrupts as devices see them, and their two KVM backings.
 *
 * A device raises an {@link EdgeInterrupt} or drives a {@link LevelInterrupt}
 * without knowing what is behind it:
 *
 * - an irqfd: an eventfd registered with `KVM_IRQFD`; writing it injects the
 *   GSI. Writing an eventfd is thread-safe, so any vCPU thread can raise it.
 *   Level-triggered irqfds have a resamplefd (`KVM_IRQFD_FLAG_RESAMPLE`): KVM
 *   lowers the line when the guest acknowledges it (EOI) and signals the
 *   resamplefd; the VMM then calls {@link IrqFdLevelInterrupt.handleResample},
 *   which raises the line again if the device still asserts it.
 * - an IRQ line: `KVM_IRQ_LINE` through anything with `setIrqLine(gsi, level)`
 *   ({@link IrqLineProvider}; kvm-ioctls' `VmFd` is one).
 */

import { VmDeviceError } from './errors.js';
import type { EventFdLike, EventNotifier } from './event-fd.js';
import { RawEventFd } from './event-fd.js';

/** An edge-triggered interrupt: each trigger is one interrupt. */
export interface EdgeInterrupt {
  /** Raises the interrupt once. */
  trigger(): void;
}

/** A level-triggered interrupt: pending for as long as it is asserted. */
export interface LevelInterrupt {
  /** Raises the line (idempotent). */
  assert(): void;
  /** Lowers the line (idempotent). */
  deassert(): void;
}

/** Sets the level of a GSI (`KVM_IRQ_LINE`). kvm-ioctls' `VmFd` satisfies it. */
export interface IrqLineProvider {
  /** Sets interrupt line `gsi` high (`true`) or low (`false`). */
  setIrqLine(gsi: number, level: boolean): void;
}

function assertGsi(gsi: unknown): asserts gsi is number {
  if (typeof gsi !== 'number' || !Number.isInteger(gsi))
    throw new TypeError(`gsi must be an integer, got ${String(gsi)}`);
  if (gsi < 0 || gsi > 0xffffffff) throw new RangeError(`gsi must fit in 32 bits unsigned, got ${gsi}`);
}

/** An edge interrupt behind an irqfd: {@link trigger} writes 1 to the eventfd. */
export class IrqFdEdgeInterrupt implements EdgeInterrupt {
  /** The irqfd this interrupt writes. */
  readonly irqfd: EventNotifier;

  /** @param irqfd - an eventfd registered with `KVM_IRQFD` (or a `RawEventFd` of one) */
  constructor(irqfd: EventNotifier) {
    if (typeof irqfd?.write !== 'function') throw new TypeError('irqfd must have a write() method');
    this.irqfd = irqfd;
  }

  /** Injects the interrupt. */
  trigger(): void {
    this.irqfd.write(1);
  }
}

/**
 * An edge interrupt behind `KVM_IRQ_LINE`: {@link trigger} pulses the line
 * (high, then low), which is how an ISA device edge reaches the PIC/IOAPIC.
 */
export class IrqLineEdgeInterrupt implements EdgeInterrupt {
  readonly #line: IrqLineLevelInterrupt;

  constructor(vm: IrqLineProvider, gsi: number) {
    this.#line = new IrqLineLevelInterrupt(vm, gsi);
  }

  /** The GSI this interrupt pulses. */
  get gsi(): number {
    return this.#line.gsi;
  }

  /** Pulses the line. */
  trigger(): void {
    this.#line.assert();
    this.#line.deassert();
  }
}

/** A level interrupt behind `KVM_IRQ_LINE`: assert/deassert set the line's level. */
export class IrqLineLevelInterrupt implements LevelInterrupt {
  readonly #vm: IrqLineProvider;
  /** The GSI this interrupt drives. */
  readonly gsi: number;

  constructor(vm: IrqLineProvider, gsi: number) {
    if (typeof vm?.setIrqLine !== 'function') throw new TypeError('vm must have a setIrqLine() method');
    assertGsi(gsi);
    this.#vm = vm;
    this.gsi = gsi;
  }

  /** Sets the line high. */
  assert(): void {
    this.#vm.setIrqLine(this.gsi, true);
  }

  /** Sets the line low. */
  deassert(): void {
    this.#vm.setIrqLine(this.gsi, false);
  }
}

/** The structured-clonable form of an {@link IrqFdLevelInterrupt}, for another thread. */
export interface IrqFdLevelShared {
  /** The irqfd's descriptor number. */
  readonly irqfd: number;
  /** The resamplefd's descriptor number. */
  readonly resamplefd: number;
  /** One Int32 word: 1 while the device asserts the line. */
  readonly state: SharedArrayBuffer;
}

/**
 * A level interrupt behind an irqfd with a resamplefd. Its asserted state is
 * one word of shared memory, so the objects a device creates on several
 * threads ({@link IrqFdLevelInterrupt.attach}) agree on it, and the thread
 * polling the resamplefd can re-raise a line a vCPU thread asserted.
 *
 * `deassert()` only records that the device stopped asserting: KVM lowers an
 * irqfd's line itself at the guest's EOI, and then the resample decides.
 */
export class IrqFdLevelInterrupt implements LevelInterrupt {
  readonly #irqfd: EventFdLike;
  readonly #resamplefd: EventFdLike;
  readonly #state: Int32Array;

  /**
   * @param irqfd - the eventfd registered with `KVM_IRQFD` and `KVM_IRQFD_FLAG_RESAMPLE`
   * @param resamplefd - its resample eventfd (best non-blocking)
   * @param state - the shared state word; a new one when omitted
   */
  constructor(irqfd: EventFdLike, resamplefd: EventFdLike, state?: SharedArrayBuffer) {
    for (const [what, fd] of [
      ['irqfd', irqfd],
      ['resamplefd', resamplefd],
    ] as const) {
      if (typeof fd?.write !== 'function' || typeof fd.read !== 'function' || typeof fd.fd !== 'number')
        throw new TypeError(`${what} must be an eventfd (fd, read(), write())`);
    }
    if (state !== undefined && (!(state instanceof SharedArrayBuffer) || state.byteLength < 4))
      throw new TypeError('state must be a SharedArrayBuffer of at least 4 bytes');
    this.#irqfd = irqfd;
    this.#resamplefd = resamplefd;
    this.#state = new Int32Array(state ?? new SharedArrayBuffer(4), 0, 1);
  }

  /**
   * Rebuilds the interrupt in another thread from {@link IrqFdLevelInterrupt.shared}.
   * @throws VmDeviceError `BAD_SHARED_STATE` if `shared` is not such a descriptor
   */
  static attach(shared: IrqFdLevelShared): IrqFdLevelInterrupt {
    if (
      typeof shared !== 'object' ||
      shared === null ||
      !(shared.state instanceof SharedArrayBuffer) ||
      shared.state.byteLength < 4 ||
      !Number.isInteger(shared.irqfd) ||
      !Number.isInteger(shared.resamplefd)
    )
      throw new VmDeviceError('BAD_SHARED_STATE', 'not the shared form of an IrqFdLevelInterrupt');
    return new IrqFdLevelInterrupt(
      new RawEventFd(shared.irqfd),
      new RawEventFd(shared.resamplefd),
      shared.state,
    );
  }

  /** What another thread passes to {@link IrqFdLevelInterrupt.attach}. */
  get shared(): IrqFdLevelShared {
    return {
      irqfd: this.#irqfd.fd,
      resamplefd: this.#resamplefd.fd,
      state: this.#state.buffer as SharedArrayBuffer,
    };
  }

  /** Whether the device currently asserts the line (on any thread). */
  get asserted(): boolean {
    return Atomics.load(this.#state, 0) === 1;
  }

  /** Asserts the line; injects through the irqfd if it was not asserted yet. */
  assert(): void {
    if (Atomics.exchange(this.#state, 0, 1) === 0) this.#irqfd.write(1);
  }

  /** Records that the device no longer asserts the line. */
  deassert(): void {
    Atomics.store(this.#state, 0, 0);
  }

  /**
   * Call when the resamplefd is readable: drains it and, if the device still
   * asserts the line, injects it again. Returns whether it re-injected.
   */
  handleResample(): boolean {
    this.#resamplefd.read();
    if (Atomics.load(this.#state, 0) !== 1) return false;
    this.#irqfd.write(1);
    return true;
  }
}
