/**
 * Readers for the boot structures, written from their specifications and
 * not from the loader: the PVH start info (xen/include/public/arch-x86/hvm/
 * start_info.h, the byte offsets in its comment) and the MP table (Intel
 * MultiProcessor Specification 1.4, chapter 4).
 */
import type { GuestMemoryArrayBuffer } from '@tsvmm/vm-memory';
import { readGuest } from './memory.js';

export interface ParsedStartInfo {
  magic: number;
  version: number;
  flags: number;
  modules: Array<{ paddr: bigint; size: bigint; cmdline: bigint; reserved: bigint }>;
  cmdline: bigint;
  rsdp: bigint;
  memmap: Array<{ addr: bigint; size: bigint; type: number; reserved: number }>;
  reserved: number;
}

export function parseStartInfo(mem: GuestMemoryArrayBuffer, address: bigint): ParsedStartInfo {
  const u32 = (a: bigint) => mem.readU32(a);
  const u64 = (a: bigint) => mem.readU64(a);
  const nrModules = u32(address + 12n);
  const modlist = u64(address + 16n);
  const memmap = u64(address + 40n);
  const entries = u32(address + 48n);
  return {
    magic: u32(address),
    version: u32(address + 4n),
    flags: u32(address + 8n),
    modules: Array.from({ length: nrModules }, (_, i) => {
      const e = modlist + BigInt(i * 32);
      return { paddr: u64(e), size: u64(e + 8n), cmdline: u64(e + 16n), reserved: u64(e + 24n) };
    }),
    cmdline: u64(address + 24n),
    rsdp: u64(address + 32n),
    memmap: Array.from({ length: entries }, (_, i) => {
      const e = memmap + BigInt(i * 24);
      return { addr: u64(e), size: u64(e + 8n), type: u32(e + 16n), reserved: u32(e + 20n) };
    }),
    reserved: u32(address + 52n),
  };
}

export interface ParsedMpTable {
  floatingPointer: bigint;
  specRev: number;
  features: number[];
  configTable: bigint;
  oemId: string;
  productId: string;
  localApicAddress: number;
  length: number;
  processors: Array<{
    apicId: number;
    apicVersion: number;
    flags: number;
    signature: number;
    features: number;
  }>;
  buses: Array<{ id: number; type: string }>;
  ioapics: Array<{ id: number; version: number; flags: number; address: number }>;
  ioInterrupts: Array<{ type: number; flags: number; bus: number; irq: number; apicId: number; pin: number }>;
  localInterrupts: Array<{
    type: number;
    flags: number;
    bus: number;
    irq: number;
    apicId: number;
    pin: number;
  }>;
}

const sum = (bytes: Uint8Array) => bytes.reduce((a, b) => (a + b) & 0xff, 0);
const text = (bytes: Uint8Array) => String.fromCharCode(...bytes);

/**
 * Finds the MP floating pointer where Linux looks for it (first KiB, the
 * KiB below 640 KiB, 0xf0000-0xfffff; 16-byte boundaries, checksum 0) and
 * decodes the configuration table it points to.
 */
export function findMpTable(mem: GuestMemoryArrayBuffer): ParsedMpTable | undefined {
  for (const [start, length] of [
    [0n, 0x400],
    [0x9fc00n, 0x400],
    [0xf0000n, 0x10000],
  ] as const) {
    if (!mem.checkRange(start, length)) continue;
    const area = readGuest(mem, start, length);
    for (let at = 0; at + 16 <= length; at += 16) {
      const fp = area.subarray(at, at + 16);
      if (text(fp.subarray(0, 4)) !== '_MP_' || fp[8] !== 1 || sum(fp) !== 0) continue;
      return parseConfigTable(mem, start + BigInt(at), fp);
    }
  }
  return undefined;
}

function parseConfigTable(
  mem: GuestMemoryArrayBuffer,
  floatingPointer: bigint,
  fp: Uint8Array,
): ParsedMpTable {
  const configTable = BigInt(new DataView(fp.buffer, fp.byteOffset).getUint32(4, true));
  const header = readGuest(mem, configTable, 44);
  const hv = new DataView(header.buffer);
  if (text(header.subarray(0, 4)) !== 'PCMP') throw new Error('no PCMP signature');
  const length = hv.getUint16(4, true);
  const table = readGuest(mem, configTable, length);
  if (sum(table) !== 0) throw new Error('configuration table checksum is not 0');
  const count = hv.getUint16(34, true);
  const view = new DataView(table.buffer);
  const parsed: ParsedMpTable = {
    floatingPointer,
    specRev: fp[9]!,
    features: [...fp.subarray(11, 16)],
    configTable,
    oemId: text(header.subarray(8, 16)),
    productId: text(header.subarray(16, 28)),
    localApicAddress: hv.getUint32(36, true),
    length,
    processors: [],
    buses: [],
    ioapics: [],
    ioInterrupts: [],
    localInterrupts: [],
  };
  if (header[6] !== 4) throw new Error(`spec revision ${header[6]} in PCMP`);
  if (hv.getUint16(40, true) !== 0) throw new Error('unexpected extended table');
  let p = 44;
  for (let i = 0; i < count; i++) {
    const type = table[p]!;
    if (type === 0) {
      parsed.processors.push({
        apicId: table[p + 1]!,
        apicVersion: table[p + 2]!,
        flags: table[p + 3]!,
        signature: view.getUint32(p + 4, true),
        features: view.getUint32(p + 8, true),
      });
      p += 20;
      continue;
    }
    if (type === 1) parsed.buses.push({ id: table[p + 1]!, type: text(table.subarray(p + 2, p + 8)) });
    else if (type === 2) {
      parsed.ioapics.push({
        id: table[p + 1]!,
        version: table[p + 2]!,
        flags: table[p + 3]!,
        address: view.getUint32(p + 4, true),
      });
    } else if (type === 3 || type === 4) {
      (type === 3 ? parsed.ioInterrupts : parsed.localInterrupts).push({
        type: table[p + 1]!,
        flags: view.getUint16(p + 2, true),
        bus: table[p + 4]!,
        irq: table[p + 5]!,
        apicId: table[p + 6]!,
        pin: table[p + 7]!,
      });
    } else throw new Error(`unknown entry type ${type}`);
    p += 8;
  }
  if (p !== length) throw new Error(`entries end at ${p}, the table at ${length}`);
  return parsed;
}
