import { describe, expect, it } from 'vitest';
import { GUEST_RAM_MEMFD, parseSmaps, readVmmMemory } from '../src/index.js';

const SMAPS = `55d0c0000000-55d0c0100000 r-xp 00000000 08:01 1234                       /usr/bin/qemu-system-x86_64
Size:               1024 kB
Rss:                 800 kB
Pss:                 800 kB
7f171ffff000-7f1727fff000 rw-s 00000000 00:01 3147                       /memfd:memory-backend-memfd (deleted)
Size:             131072 kB
Rss:                6000 kB
7f1730000000-7f1731000000 rw-p 00000000 00:00 0 
Size:              16384 kB
Rss:                2048 kB
7f1740000000-7f1740001000 rw-s 00000000 00:01 99                         /memfd:something-else (deleted)
Size:                  4 kB
Rss:                   4 kB
`;

describe('parseSmaps', () => {
  it('takes the guest RAM memfd out of the resident set', () => {
    expect(parseSmaps(SMAPS, GUEST_RAM_MEMFD.qemu)).toEqual({
      rssBytes: (800 + 6000 + 2048 + 4) * 1024,
      guestRamBytes: 6000 * 1024,
      overheadBytes: (800 + 2048 + 4) * 1024,
    });
  });

  it('counts everything as overhead when the RAM is not there under that name', () => {
    expect(parseSmaps(SMAPS, GUEST_RAM_MEMFD.reference).guestRamBytes).toBe(0);
  });

  it('reads a live process', () => {
    const m = readVmmMemory(process.pid, 'reference');
    expect(m.rssBytes).toBeGreaterThan(10 << 20);
    expect(m.overheadBytes).toBe(m.rssBytes - m.guestRamBytes);
  });
});
