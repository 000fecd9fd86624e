/**
 * An Intel MultiProcessor Specification 1.4 table, so that an SMP guest
 * without ACPI finds its CPUs, its I/O APIC and how ISA interrupts reach it:
 * the MP floating pointer structure ("_MP_", 16 bytes) followed by the MP
 * configuration table ("PCMP") with processor, bus, I/O APIC, I/O interrupt
 * and local interrupt entries. Both carry a checksum that makes their bytes
 * sum to 0.
 *
 * Linux looks for the floating pointer in the first KiB of memory, the KiB
 * below 640 KiB (0x9fc00), the BIOS ROM area (0xf0000-0xfffff) and the
 * EBDA; put the table at one of those and reserve it in the memory map.
 */
import type { GuestMemory } from '@tsvmm/vm-memory';
import { hex, LinuxLoaderError } from './errors.js';
import { type AddressRange, requireBelow4G, requireRam, u64, uint } from './guest.js';

/** Entry type of a processor entry. */
export const MP_PROCESSOR = 0;
/** Entry type of a bus entry. */
export const MP_BUS = 1;
/** Entry type of an I/O APIC entry. */
export const MP_IOAPIC = 2;
/** Entry type of an I/O interrupt assignment entry. */
export const MP_INTSRC = 3;
/** Entry type of a local interrupt assignment entry. */
export const MP_LINTSRC = 4;
/** Interrupt type: a vectored interrupt from the I/O APIC. */
export const mp_INT = 0;
/** Interrupt type: NMI. */
export const mp_NMI = 1;
/** Interrupt type: SMI. */
export const mp_SMI = 2;
/** Interrupt type: ExtINT, the vector comes from the 8259A PIC. */
export const mp_ExtINT = 3;
/** Processor entry flag: the CPU is usable. */
export const CPU_ENABLED = 1;
/** Processor entry flag: the bootstrap processor. */
export const CPU_BOOTPROCESSOR = 2;
/** I/O APIC entry flag: usable. */
export const MPC_APIC_USABLE = 1;
/** Interrupt flags: polarity and trigger conform to the bus (ISA: active high, edge). */
export const MP_IRQ_DEFAULT = 0;
/** Where the local APICs are unless told otherwise. */
export const APIC_DEFAULT_PHYS_BASE = 0xfee00000;
/** Where the I/O APIC is unless told otherwise. */
export const IO_APIC_DEFAULT_PHYS_BASE = 0xfec00000;
/** The local APIC version KVM's in-kernel APIC reports. */
export const KVM_APIC_VERSION = 0x14;
/** The I/O APIC version KVM's in-kernel I/O APIC reports (82093AA). */
export const KVM_IOAPIC_VERSION = 0x11;
/** The MP specification revision written: 1.4. */
export const MP_SPEC_REVISION = 4;
/** Size of the floating pointer structure. */
export const MPF_SIZE = 16;
/** Size of the configuration table header. */
export const MPC_HEADER_SIZE = 44;
/** Size of a processor entry; every other entry has 8 bytes. */
export const MPC_CPU_SIZE = 20;
/** Size of a bus, I/O APIC or interrupt entry. */
export const MPC_ENTRY_SIZE = 8;

/** An I/O (type 3) or local (type 4) interrupt assignment entry. */
export interface MpInterrupt {
  /** `io`: to an I/O APIC input (INTIN); `local`: to a local APIC input (LINTIN). */
  readonly kind: 'io' | 'local';
  /** `mp_INT`, `mp_NMI`, `mp_SMI` or `mp_ExtINT`. */
  readonly type: number;
  /** Polarity (bits 0-1) and trigger mode (bits 2-3); default {@link MP_IRQ_DEFAULT}. */
  readonly flags?: number;
  /** Source bus id (the ISA bus is 0). */
  readonly sourceBusId: number;
  /** Source bus IRQ. */
  readonly sourceBusIrq: number;
  /** I/O APIC id, or local APIC id (0xff: every local APIC). */
  readonly destinationId: number;
  /** The INTIN# or LINTIN# the interrupt arrives at. */
  readonly destinationPin: number;
}

/** Options of {@link writeMpTable}. */
export interface MpTableOptions {
  /** Number of CPUs; CPU n gets local APIC id n, CPU 0 is the bootstrap processor. */
  cpus: number;
  /** The I/O APIC's id; default `cpus` (the first id after the CPUs'). */
  ioapicId?: number;
  /** Default {@link KVM_IOAPIC_VERSION}. */
  ioapicVersion?: number;
  /** Default {@link IO_APIC_DEFAULT_PHYS_BASE}. */
  ioapicAddress?: number;
  /** Default {@link APIC_DEFAULT_PHYS_BASE}. */
  localApicAddress?: number;
  /** Default {@link KVM_APIC_VERSION}. */
  localApicVersion?: number;
  /** CPUID signature (stepping, model, family) in processor entries; default 0x600 (family 6). */
  cpuSignature?: number;
  /** CPUID feature flags in processor entries; default FPU and APIC (0x201). */
  featureFlags?: number;
  /** The interrupt entries; default {@link isaInterruptAssignments} for the I/O APIC. */
  interrupts?: readonly MpInterrupt[];
  /** OEM id, up to 8 ASCII characters; default "TSVMM". */
  oemId?: string;
  /** Product id, up to 12 ASCII characters; default "TSVMM". */
  productId?: string;
}

/** Where {@link writeMpTable} put the two structures. */
export interface MpTableLayout extends AddressRange {
  /** Address of the floating pointer structure (the `address` given). */
  readonly floatingPointer: bigint;
  /** Address of the configuration table, right behind it. */
  readonly configTable: bigint;
}

/**
 * The interrupt entries of the MP specification's default ISA configuration
 * (chapter 5; Linux builds the same in `construct_ioirq_mptable()`): the
 * 8259A's output as ExtINT on INTIN0, ISA IRQ 0 (the PIT) on INTIN2, IRQs 1
 * and 3-15 on the INTIN of the same number (IRQ 2 is the cascade), and on
 * every local APIC LINT0 as ExtINT and LINT1 as NMI.
 *
 * @param irq0Pin - 2 as above, or 0 for hypervisors whose GSI routing sends
 *   IRQ 0 to INTIN0 (KVM's default routing); then there is no ExtINT entry.
 */
export function isaInterruptAssignments(ioapicId: number, irq0Pin: 0 | 2 = 2): MpInterrupt[] {
  const io = (type: number, irq: number, pin: number): MpInterrupt => ({
    kind: 'io',
    type,
    sourceBusId: 0,
    sourceBusIrq: irq,
    destinationId: ioapicId,
    destinationPin: pin,
  });
  const out: MpInterrupt[] = [];
  if (irq0Pin === 2) out.push(io(mp_ExtINT, 0, 0));
  out.push(io(mp_INT, 0, irq0Pin));
  for (let irq = 1; irq < 16; irq++) if (irq !== 2) out.push(io(mp_INT, irq, irq));
  for (const [type, pin] of [
    [mp_ExtINT, 0],
    [mp_NMI, 1],
  ] as const) {
    out.push({
      kind: 'local',
      type,
      sourceBusId: 0,
      sourceBusIrq: 0,
      destinationId: 0xff,
      destinationPin: pin,
    });
  }
  return out;
}

function ascii(text: string, length: number, what: string): Uint8Array {
  if (typeof text !== 'string' || text.length > length || !/^[\x20-\x7e]*$/.test(text)) {
    throw new RangeError(`${what} must be at most ${length} printable ASCII characters`);
  }
  const out = new Uint8Array(length).fill(0x20);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (const b of bytes) sum += b;
  return (256 - (sum & 0xff)) & 0xff;
}

/**
 * Builds the floating pointer and the configuration table for a table at `address`.
 * @throws LinuxLoaderError `MPTABLE_INVALID` when the CPUs and the I/O APIC do not get distinct ids
 * below 0xff; `ADDRESS_ABOVE_4G` when the table would not lie below 4 GiB.
 */
export function encodeMpTable(address: bigint, options: MpTableOptions): Uint8Array {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  const cpus = options.cpus;
  if (!Number.isInteger(cpus) || cpus < 1)
    throw new RangeError(`cpus must be a positive integer, got ${cpus}`);
  const ioapicId = uint(options.ioapicId ?? cpus, 0xff, 'ioapicId');
  if (cpus > 0xfe || ioapicId === 0xff || ioapicId < cpus) {
    throw new LinuxLoaderError(
      'MPTABLE_INVALID',
      `${cpus} CPUs (APIC ids 0-${cpus - 1}) and I/O APIC id ${ioapicId} do not fit distinct ids below 0xff`,
    );
  }
  const interrupts = options.interrupts ?? isaInterruptAssignments(ioapicId);
  const entriesSize = cpus * MPC_CPU_SIZE + (2 + interrupts.length) * MPC_ENTRY_SIZE;
  const tableSize = MPC_HEADER_SIZE + entriesSize;
  if (tableSize > 0xffff)
    throw new RangeError(`the configuration table would take ${tableSize} bytes, more than 64 KiB`);
  requireBelow4G(address + BigInt(MPF_SIZE + tableSize), 'the MP table');
  const out = new Uint8Array(MPF_SIZE + tableSize);
  const view = new DataView(out.buffer);

  // Floating pointer structure.
  out.set([0x5f, 0x4d, 0x50, 0x5f], 0); // "_MP_"
  view.setUint32(4, Number(address) + MPF_SIZE, true);
  out[8] = 1; // length in 16-byte paragraphs
  out[9] = MP_SPEC_REVISION;
  // out[11] = 0: a configuration table is present; out[12] bit 7 = 0: virtual wire mode.

  // Configuration table.
  const t = MPF_SIZE;
  out.set([0x50, 0x43, 0x4d, 0x50], t); // "PCMP"
  view.setUint16(t + 4, tableSize, true);
  out[t + 6] = MP_SPEC_REVISION;
  out.set(ascii(options.oemId ?? 'TSVMM', 8, 'oemId'), t + 8);
  out.set(ascii(options.productId ?? 'TSVMM', 12, 'productId'), t + 16);
  view.setUint16(t + 34, cpus + 2 + interrupts.length, true);
  view.setUint32(
    t + 36,
    uint(options.localApicAddress ?? APIC_DEFAULT_PHYS_BASE, 0xffff_ffff, 'localApicAddress'),
    true,
  );

  let p = t + MPC_HEADER_SIZE;
  const localApicVersion = uint(options.localApicVersion ?? KVM_APIC_VERSION, 0xff, 'localApicVersion');
  const signature = uint(options.cpuSignature ?? 0x600, 0xffff_ffff, 'cpuSignature');
  const features = uint(options.featureFlags ?? 0x201, 0xffff_ffff, 'featureFlags');
  for (let cpu = 0; cpu < cpus; cpu++, p += MPC_CPU_SIZE) {
    out[p] = MP_PROCESSOR;
    out[p + 1] = cpu;
    out[p + 2] = localApicVersion;
    out[p + 3] = CPU_ENABLED | (cpu === 0 ? CPU_BOOTPROCESSOR : 0);
    view.setUint32(p + 4, signature, true);
    view.setUint32(p + 8, features, true);
  }
  out[p] = MP_BUS;
  out[p + 1] = 0;
  out.set(ascii('ISA', 6, 'bus type'), p + 2);
  p += MPC_ENTRY_SIZE;
  out[p] = MP_IOAPIC;
  out[p + 1] = ioapicId;
  out[p + 2] = uint(options.ioapicVersion ?? KVM_IOAPIC_VERSION, 0xff, 'ioapicVersion');
  out[p + 3] = MPC_APIC_USABLE;
  view.setUint32(
    p + 4,
    uint(options.ioapicAddress ?? IO_APIC_DEFAULT_PHYS_BASE, 0xffff_ffff, 'ioapicAddress'),
    true,
  );
  p += MPC_ENTRY_SIZE;
  interrupts.forEach((irq, i) => {
    if (irq.kind !== 'io' && irq.kind !== 'local')
      throw new TypeError(`interrupts[${i}].kind must be 'io' or 'local'`);
    out[p] = irq.kind === 'io' ? MP_INTSRC : MP_LINTSRC;
    out[p + 1] = uint(irq.type, 0xff, `interrupts[${i}].type`);
    view.setUint16(p + 2, uint(irq.flags ?? MP_IRQ_DEFAULT, 0xffff, `interrupts[${i}].flags`), true);
    out[p + 4] = uint(irq.sourceBusId, 0xff, `interrupts[${i}].sourceBusId`);
    out[p + 5] = uint(irq.sourceBusIrq, 0xff, `interrupts[${i}].sourceBusIrq`);
    out[p + 6] = uint(irq.destinationId, 0xff, `interrupts[${i}].destinationId`);
    out[p + 7] = uint(irq.destinationPin, 0xff, `interrupts[${i}].destinationPin`);
    p += MPC_ENTRY_SIZE;
  });

  out[t + 7] = checksum(out.subarray(t, t + tableSize));
  out[10] = checksum(out.subarray(0, MPF_SIZE));
  return out;
}

/**
 * Writes an MP table at `address` (16-byte aligned): the floating pointer
 * there and the configuration table right behind it. Nothing is written
 * unless the whole table fits in guest RAM below 4 GiB.
 *
 * @returns where the structures are, for the VMM to reserve in the memory map.
 * @throws LinuxLoaderError `MPTABLE_INVALID`, `BOOT_DATA_OUTSIDE_RAM`, `ADDRESS_ABOVE_4G`.
 *
 * @example
 * ```ts
 * writeMpTable(mem, 0x9fc00n, { cpus: 2 }); // { start: 0x9fc00n, end: 0x9fd00n, ... }
 * ```
 */
export function writeMpTable(mem: GuestMemory, address: bigint, options: MpTableOptions): MpTableLayout {
  u64(address, 'address');
  if (address % 16n !== 0n) throw new RangeError(`address ${hex(address)} is not 16-byte aligned`);
  const bytes = encodeMpTable(address, options);
  const end = address + BigInt(bytes.length);
  requireRam(mem, address, BigInt(bytes.length), 'BOOT_DATA_OUTSIDE_RAM', 'the MP table');
  mem.writeSlice(address, bytes);
  return { start: address, end, floatingPointer: address, configTable: address + BigInt(MPF_SIZE) };
}
