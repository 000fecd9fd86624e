/**
 * What a device needs (constraints) and what it was given (resources):
 * port ranges, MMIO ranges, legacy (ISA/IOAPIC pin) IRQs and GSIs.
 *
 * A VMM's builder turns each device's constraints into resources with a
 * {@link ResourceAllocator}, then registers the device on the buses and
 * wires its interrupts from the result.
 */
import { MmioRange, PioRange } from './address.js';
import type { AddressAllocator, AllocPolicy, IdAllocator } from './allocator.js';
import { VmDeviceError } from './errors.js';

/** One resource assigned to a device. */
export type Resource =
  | { readonly type: 'pio'; readonly range: PioRange }
  | { readonly type: 'mmio'; readonly range: MmioRange }
  | { readonly type: 'legacy-irq'; readonly irq: number }
  | { readonly type: 'gsi'; readonly gsi: number };

/**
 * One resource a device asks for. Without `at` the allocator places it
 * (lowest first, or highest with `policy: 'last-fit'`); with `at` it must be
 * exactly there (a UART at port 0x3f8 on IRQ 4).
 */
export type ResourceConstraint =
  | {
      readonly type: 'pio';
      readonly size: number;
      readonly align?: number;
      readonly at?: number;
      readonly policy?: 'first-fit' | 'last-fit';
    }
  | {
      readonly type: 'mmio';
      readonly size: bigint;
      readonly align?: bigint;
      readonly at?: bigint;
      readonly policy?: 'first-fit' | 'last-fit';
    }
  | { readonly type: 'legacy-irq'; readonly at?: number; readonly policy?: 'first-fit' | 'last-fit' }
  | { readonly type: 'gsi'; readonly at?: number; readonly policy?: 'first-fit' | 'last-fit' };

/** The resources assigned to one device, in the order they were asked for. */
export class DeviceResources {
  /** Every resource, in order. */
  readonly all: readonly Resource[];

  constructor(resources: Iterable<Resource>) {
    this.all = Object.freeze([...resources]);
  }

  /** The port ranges. */
  get pioRanges(): PioRange[] {
    return this.all.flatMap((r) => (r.type === 'pio' ? [r.range] : []));
  }

  /** The MMIO ranges. */
  get mmioRanges(): MmioRange[] {
    return this.all.flatMap((r) => (r.type === 'mmio' ? [r.range] : []));
  }

  /** The legacy IRQs. */
  get legacyIrqs(): number[] {
    return this.all.flatMap((r) => (r.type === 'legacy-irq' ? [r.irq] : []));
  }

  /** The GSIs. */
  get gsis(): number[] {
    return this.all.flatMap((r) => (r.type === 'gsi' ? [r.gsi] : []));
  }
}

/** The allocators a {@link ResourceAllocator} draws from; leave out what the machine lacks. */
export interface ResourceAllocatorOptions {
  /** Port space for 'pio' constraints (e.g. `new AddressAllocator(0n, 0x10000n)`). */
  readonly pio?: AddressAllocator;
  /** MMIO space for 'mmio' constraints. */
  readonly mmio?: AddressAllocator;
  /** Legacy IRQs for 'legacy-irq' constraints (e.g. IOAPIC pins `new IdAllocator(5, 23)`). */
  readonly legacyIrq?: IdAllocator;
  /** GSIs for 'gsi' constraints. */
  readonly gsi?: IdAllocator;
}

/**
 * Satisfies a device's constraints from a machine's allocators, all or
 * nothing, and frees them again.
 */
export class ResourceAllocator {
  readonly #opts: ResourceAllocatorOptions;

  constructor(options: ResourceAllocatorOptions) {
    this.#opts = { ...options };
  }

  /**
   * Allocates every constraint; if one fails, frees what it took and rethrows.
   * @throws VmDeviceError `OUT_OF_SPACE` / `OVERLAP` from the allocators, or
   *   `OUT_OF_SPACE` for a kind of resource this machine has no allocator for
   */
  allocate(constraints: readonly ResourceConstraint[]): DeviceResources {
    const taken: Resource[] = [];
    try {
      for (const c of constraints) taken.push(this.#allocateOne(c));
    } catch (e) {
      this.free(new DeviceResources(taken));
      throw e;
    }
    return new DeviceResources(taken);
  }

  /**
   * Frees every resource of `resources`.
   * @throws VmDeviceError `NOT_REGISTERED` for one that is not allocated
   */
  free(resources: DeviceResources): void {
    for (const r of [...resources.all].reverse()) {
      switch (r.type) {
        case 'pio':
          this.#source('pio').free(new MmioRange(BigInt(r.range.base), BigInt(r.range.size)));
          break;
        case 'mmio':
          this.#source('mmio').free(r.range);
          break;
        case 'legacy-irq':
          this.#source('legacyIrq').free(r.irq);
          break;
        case 'gsi':
          this.#source('gsi').free(r.gsi);
          break;
      }
    }
  }

  #allocateOne(c: ResourceConstraint): Resource {
    const policy = (at: bigint | number | undefined, p: 'first-fit' | 'last-fit' | undefined): AllocPolicy =>
      at !== undefined ? { exact: at } : (p ?? 'first-fit');
    switch (c?.type) {
      case 'pio': {
        const r = this.#source('pio').allocate(BigInt(c.size), BigInt(c.align ?? 1), policy(c.at, c.policy));
        return { type: 'pio', range: new PioRange(Number(r.base), Number(r.size)) };
      }
      case 'mmio':
        return {
          type: 'mmio',
          range: this.#source('mmio').allocate(c.size, c.align ?? 1n, policy(c.at, c.policy)),
        };
      case 'legacy-irq':
        return { type: 'legacy-irq', irq: this.#source('legacyIrq').allocate(policy(c.at, c.policy)) };
      case 'gsi':
        return { type: 'gsi', gsi: this.#source('gsi').allocate(policy(c.at, c.policy)) };
      default:
        throw new TypeError(`unknown resource constraint ${JSON.stringify(c)}`);
    }
  }

  #source<K extends keyof ResourceAllocatorOptions>(kind: K): NonNullable<ResourceAllocatorOptions[K]> {
    const a = this.#opts[kind];
    if (a === undefined) throw new VmDeviceError('OUT_OF_SPACE', `this machine has no ${kind} allocator`);
    return a as NonNullable<ResourceAllocatorOptions[K]>;
  }
}
