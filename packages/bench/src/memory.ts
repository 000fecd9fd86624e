/**
 * A VMM process's memory overhead: its resident set minus the resident part
 * of its guest RAM mappings, from /proc/<pid>/smaps. Guest RAM is recognised
 * by its memfd's name, which each VMM sets: the reference VMM's is
 * `guest-ram`; QEMU's `memory-backend-memfd` object names its memfd after
 * the object type.
 */
import { readFileSync } from 'node:fs';
import type { VmmKind } from '@tsvmm/test-guest';

/** The memfd name of guest RAM in each VMM. */
export const GUEST_RAM_MEMFD: Record<VmmKind, string> = {
  reference: 'guest-ram',
  qemu: 'memory-backend-memfd',
};

/** Resident memory of a process, split into guest RAM and the rest. */
export interface ProcessMemory {
  /** All resident bytes (the sum of every mapping's Rss). */
  readonly rssBytes: number;
  /** Resident bytes of the guest RAM mappings. */
  readonly guestRamBytes: number;
  /** The VMM's own: rssBytes - guestRamBytes. */
  readonly overheadBytes: number;
}

const HEADER = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/;

/** Splits an smaps text into resident bytes of guest RAM (memfd `ramName`) and of everything else. */
export function parseSmaps(text: string, ramName: string): ProcessMemory {
  let rss = 0;
  let ram = 0;
  let isRam = false;
  for (const line of text.split('\n')) {
    const header = HEADER.exec(line);
    if (header) {
      const path = header[1]!.replace(/ \(deleted\)$/, '');
      isRam = path === `/memfd:${ramName}`;
      continue;
    }
    const m = /^Rss:\s+(\d+) kB$/.exec(line);
    if (!m) continue;
    const bytes = Number(m[1]) * 1024;
    rss += bytes;
    if (isRam) ram += bytes;
  }
  return { rssBytes: rss, guestRamBytes: ram, overheadBytes: rss - ram };
}

/** Reads a running VMM's memory split. */
export function readVmmMemory(pid: number, vmm: VmmKind): ProcessMemory {
  return parseSmaps(readFileSync(`/proc/${pid}/smaps`, 'utf8'), GUEST_RAM_MEMFD[vmm]);
}
