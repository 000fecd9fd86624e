/**
 * The guest's physical memory map, as the zero page (`e820_table`) and the
 * PVH `hvm_start_info` (`memmap`) carry it. The type numbers are the same in
 * both (they are ACPI's address range types).
 */
import type { GuestMemory } from '@tsvmm/vm-memory';
import { type AddressRange, ramRuns, subtractRange, u64 } from './guest.js';

/** Usable RAM. */
export const E820_RAM = 1;
/** Reserved: not to be used by the OS. */
export const E820_RESERVED = 2;
/** ACPI tables, reclaimable after they are read. */
export const E820_ACPI = 3;
/** ACPI NVS memory. */
export const E820_NVS = 4;
/** Memory with errors. */
export const E820_UNUSABLE = 5;
/** Persistent memory. */
export const E820_PMEM = 7;

/** `XEN_HVM_MEMMAP_TYPE_RAM`, equal to {@link E820_RAM}. */
export const XEN_HVM_MEMMAP_TYPE_RAM = 1;
/** `XEN_HVM_MEMMAP_TYPE_RESERVED`. */
export const XEN_HVM_MEMMAP_TYPE_RESERVED = 2;
/** `XEN_HVM_MEMMAP_TYPE_ACPI`. */
export const XEN_HVM_MEMMAP_TYPE_ACPI = 3;
/** `XEN_HVM_MEMMAP_TYPE_NVS`. */
export const XEN_HVM_MEMMAP_TYPE_NVS = 4;
/** `XEN_HVM_MEMMAP_TYPE_UNUSABLE`. */
export const XEN_HVM_MEMMAP_TYPE_UNUSABLE = 5;
/** `XEN_HVM_MEMMAP_TYPE_DISABLED`. */
export const XEN_HVM_MEMMAP_TYPE_DISABLED = 6;
/** `XEN_HVM_MEMMAP_TYPE_PMEM`. */
export const XEN_HVM_MEMMAP_TYPE_PMEM = 7;

/** One entry of the memory map (`struct boot_e820_entry`, `struct hvm_memmap_table_entry`). */
export interface E820Entry {
  /** First address. */
  readonly addr: bigint;
  /** Size in bytes. */
  readonly size: bigint;
  /** One of the `E820_*` types. */
  readonly type: number;
}

/** Checks one entry's fields (u64 address and size, u32 type, no wrap past 2^64). */
export function checkE820Entry(entry: E820Entry, index: number): void {
  if (typeof entry !== 'object' || entry === null)
    throw new TypeError(`memory map entry ${index} is not an object`);
  const addr = u64(entry.addr, `memory map entry ${index} addr`);
  const size = u64(entry.size, `memory map entry ${index} size`);
  if (addr + size > 1n << 64n) throw new RangeError(`memory map entry ${index} ends past 2^64`);
  if (!Number.isInteger(entry.type) || entry.type < 0 || entry.type > 0xffff_ffff) {
    throw new RangeError(`memory map entry ${index} type must be a u32`);
  }
}

/**
 * The memory map of a guest memory: its regions (adjacent ones merged) as
 * `E820_RAM`, with each of `reserved` cut out of them and listed as
 * `E820_RESERVED`. Sorted by address.
 * @throws RangeError for empty or overlapping reserved ranges.
 *
 * @example
 * ```ts
 * // 128 MiB of RAM at 0; the EBDA/MP table area and the legacy hole reserved
 * memoryMapFromGuestMemory(mem, [{ start: 0x9fc00n, end: 0x100000n }]);
 * // [{ addr: 0n, size: 0x9fc00n, type: 1 }, { addr: 0x9fc00n, size: 0x60400n, type: 2 },
 * //  { addr: 0x100000n, size: 0x7f00000n, type: 1 }]
 * ```
 */
export function memoryMapFromGuestMemory(
  mem: GuestMemory,
  reserved: readonly AddressRange[] = [],
): E820Entry[] {
  let ram = ramRuns(mem);
  const out: E820Entry[] = [];
  const cuts = reserved.map((cut, i) => {
    const start = u64(cut.start, `reserved[${i}].start`);
    const end = u64(cut.end, `reserved[${i}].end`);
    if (end <= start) throw new RangeError(`reserved[${i}] is empty or reversed`);
    return { start, end };
  });
  cuts.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  cuts.forEach((cut, i) => {
    if (i > 0 && cuts[i - 1]!.end > cut.start) throw new RangeError('reserved ranges overlap');
    ram = subtractRange(ram, cut);
    out.push({ addr: cut.start, size: cut.end - cut.start, type: E820_RESERVED });
  });
  for (const r of ram) out.push({ addr: r.start, size: r.end - r.start, type: E820_RAM });
  return out.sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
}
