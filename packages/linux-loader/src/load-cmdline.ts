/**
 * Putting a {@link Cmdline} into guest memory.
 */
import type { GuestMemory } from '@tsvmm/vm-memory';
import type { Cmdline } from './cmdline.js';
import { requireRam, u64 } from './guest.js';

/**
 * Writes the command line and its terminating NUL at `address`.
 * @returns where it is and its size with the NUL, as `writeBootParams` takes it.
 * @throws LinuxLoaderError `BOOT_DATA_OUTSIDE_RAM` (nothing written).
 */
export function loadCmdline(
  mem: GuestMemory,
  address: bigint,
  cmdline: Cmdline,
): { readonly address: bigint; readonly size: number } {
  u64(address, 'address');
  const bytes = cmdline.toBytes();
  requireRam(mem, address, BigInt(bytes.length), 'BOOT_DATA_OUTSIDE_RAM', 'the command line');
  mem.writeSlice(address, bytes);
  return { address, size: bytes.length };
}
