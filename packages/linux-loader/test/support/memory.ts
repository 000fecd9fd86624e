/** Guest memories for the tests, and checks of what a call wrote. */
import { GuestMemoryArrayBuffer, type MemoryRange } from '@tsvmm/vm-memory';

export const MiB = 1 << 20;

export function guestRam(
  ranges: MemoryRange[] = [{ start: 0n, size: 128 * MiB }],
  fill = 0xa5,
): GuestMemoryArrayBuffer {
  const mem = GuestMemoryArrayBuffer.fromRanges(ranges);
  for (const r of mem.regions) new Uint8Array(r.buffer).fill(fill);
  return mem;
}

export function snapshot(mem: GuestMemoryArrayBuffer): Uint8Array[] {
  return mem.regions.map((r) => new Uint8Array(r.buffer).slice());
}

/** Guest addresses whose bytes differ from the snapshot, as [start, end) runs. */
export function changedRuns(mem: GuestMemoryArrayBuffer, before: Uint8Array[]): Array<[bigint, bigint]> {
  const runs: Array<[bigint, bigint]> = [];
  mem.regions.forEach((r, i) => {
    const now = new Uint8Array(r.buffer);
    const old = before[i]!;
    let j = 0;
    while (j < now.length) {
      if (now[j] === old[j]) {
        j++;
        continue;
      }
      const s = j;
      while (j < now.length && now[j] !== old[j]) j++;
      runs.push([r.start + BigInt(s), r.start + BigInt(j)]);
    }
  });
  return runs;
}

export function readGuest(mem: GuestMemoryArrayBuffer, addr: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  mem.readSlice(addr, out);
  return out;
}

/** Whether two byte arrays are equal (fast for large ones, unlike a deep equal). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return (
    Buffer.compare(
      Buffer.from(a.buffer, a.byteOffset, a.byteLength),
      Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    ) === 0
  );
}
