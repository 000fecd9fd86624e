/**
 * The test guest's command line: which workloads to run and their settings,
 * as `tg.<name>=<value>` words. Values are checked here against the same
 * limits the guest enforces, so a bad setting fails on the host, not as a
 * guest error.
 */

/** The workloads, run in the order given. */
export type TestGuestWorkload =
  /** Checks what virtio 1.2 requires of every virtio-mmio device on the command line. */
  | 'conformance'
  /** Sequential reads with large requests, every byte verified against the image's pattern. */
  | 'blk-read'
  /** Sequential writes of a second pattern, a flush, and an untimed verifying read-back. */
  | 'blk-write'
  /** Random 4 KiB reads over the whole disk, verified. */
  | 'blk-rand'
  /** UDP packets to the host peer. */
  | 'net-tx'
  /** UDP packets from the host peer, asked for in windows. */
  | 'net-rx'
  /** Reads from virtio-rng. */
  | 'rng'
  /** Port writes nothing but the VMM answers: the port-I/O exit round trip. */
  | 'pio'
  /** MMIO reads nothing but the VMM answers: the MMIO exit round trip. */
  | 'mmio'
  /** Prints `tsvmm-test-guest: idle`, then spins in user mode (to sample the VMM meanwhile). */
  | 'idle';

export const TEST_GUEST_WORKLOADS: readonly TestGuestWorkload[] = [
  'conformance',
  'blk-read',
  'blk-write',
  'blk-rand',
  'net-tx',
  'net-rx',
  'rng',
  'pio',
  'mmio',
  'idle',
];

/** Settings of the block workloads and checks. */
export interface BlockSettings {
  /** Bytes each sequential pass moves (default 64 MiB, cut to the disk). */
  readonly bytes?: number;
  /** Bytes per sequential request (default 256 KiB; cut to what the device allows). */
  readonly requestBytes?: number;
  /** Requests in flight (default 8). */
  readonly depth?: number;
  /** The pattern seed the disk image was written with (default 0x5eed; see writePatternImage). */
  readonly seed?: number;
  /** The pattern seed blk-write writes (default 0x1dea). */
  readonly writeSeed?: number;
  /** Where blk-write writes, in bytes (default 0). */
  readonly writeOffset?: number;
  /** Random 4 KiB reads of blk-rand (default 4096). */
  readonly randomReads?: number;
  /** Conformance: the capacity the device must report, in 512-byte sectors. */
  readonly expectSectors?: number;
  /** Conformance: the serial GET_ID must return. */
  readonly expectSerial?: string;
}

/** Settings of the network workloads and checks: both ends' addresses, and the sizes. */
export interface NetSettings {
  /** The guest's IPv4 address. */
  readonly ip: string;
  /** The peer's IPv4 address. */
  readonly peer: string;
  /** The peer's MAC address (the guest speaks no ARP). */
  readonly peerMac: string;
  /** UDP port on both ends (default 7777). */
  readonly port?: number;
  /** Packets of net-tx and of net-rx (default 20000). */
  readonly packets?: number;
  /** UDP payload bytes per packet, 16 to 1472 (default 1472: full 1500-byte IP packets). */
  readonly payloadBytes?: number;
  /** Packets the peer sends per request in net-rx (default 64, at most 128). */
  readonly window?: number;
}

/** Everything the test guest can be told. */
export interface TestGuestSettings {
  readonly work: readonly TestGuestWorkload[];
  /** Entries per virtqueue (default 256; cut to each device's maximum). */
  readonly queueSize?: number;
  readonly blk?: BlockSettings;
  readonly net?: NetSettings;
  /** virtio-rng: total bytes (default 4 MiB) and bytes per request (default 64 KiB). */
  readonly rng?: { readonly bytes?: number; readonly requestBytes?: number };
  /** Iterations of each exit loop (default 20000). */
  readonly exits?: number;
  /** The port the PIO loop writes (default 0x80). */
  readonly pioPort?: number;
  /** The guest physical address the MMIO loop reads (default 0xc000_0000); nothing may be there. */
  readonly mmioAddress?: number;
  /** How long `idle` spins (default 1000 ms). */
  readonly idleMs?: number;
}

function whole(name: string, value: number | undefined, min: number, max: number): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value))
    throw new TypeError(`${name} must be a whole number, got ${String(value)}`);
  if (value < min || value > max)
    throw new RangeError(`${name} must be between ${min} and ${max}, got ${value}`);
  return String(value);
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
/** What the guest keeps of a serial: up to 20 bytes without spaces (a space would end the word). */
const SERIAL = /^[\x21-\x7e]{1,20}$/;

function pattern(name: string, value: string, re: RegExp, what: string): string {
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string`);
  if (!re.test(value)) throw new RangeError(`${name} must be ${what}, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * The command-line words for `settings`, space-separated (append them to
 * whatever else the VMM puts on the command line; the VMM or QEMU adds the
 * `virtio_mmio.device=` words itself).
 * @throws TypeError / RangeError for a setting the guest would refuse.
 */
export function testGuestCmdline(settings: TestGuestSettings): string {
  if (!Array.isArray(settings?.work) || settings.work.length === 0 || settings.work.length > 16)
    throw new RangeError('work must list 1 to 16 workloads');
  for (const w of settings.work)
    if (!TEST_GUEST_WORKLOADS.includes(w)) throw new RangeError(`unknown workload ${JSON.stringify(w)}`);
  const words: [string, string | undefined][] = [
    ['tg.work', settings.work.join(',')],
    ['tg.queue', whole('queueSize', settings.queueSize, 1, 32768)],
    ['tg.exits', whole('exits', settings.exits, 1, 2 ** 32)],
    ['tg.pio', whole('pioPort', settings.pioPort, 0, 0xffff)],
    ['tg.mmio', whole('mmioAddress', settings.mmioAddress, 0, 0xffff_fffc)],
    ['tg.idle.ms', whole('idleMs', settings.idleMs, 0, 600_000)],
  ];
  const b = settings.blk;
  if (b) {
    words.push(
      ['tg.blk.bytes', whole('blk.bytes', b.bytes, 512, 2 ** 40)],
      ['tg.blk.req', whole('blk.requestBytes', b.requestBytes, 512, 2 ** 22)],
      ['tg.blk.depth', whole('blk.depth', b.depth, 1, 128)],
      ['tg.blk.seed', whole('blk.seed', b.seed, 0, 0xffff_ffff)],
      ['tg.blk.wseed', whole('blk.writeSeed', b.writeSeed, 0, 0xffff_ffff)],
      ['tg.blk.woff', whole('blk.writeOffset', b.writeOffset, 0, 2 ** 50)],
      ['tg.rand.count', whole('blk.randomReads', b.randomReads, 1, 2 ** 32)],
      ['tg.blk.sectors', whole('blk.expectSectors', b.expectSectors, 1, Number.MAX_SAFE_INTEGER)],
      [
        'tg.blk.serial',
        b.expectSerial === undefined
          ? undefined
          : pattern('blk.expectSerial', b.expectSerial, SERIAL, '1 to 20 printable characters, no spaces'),
      ],
    );
  }
  const n = settings.net;
  if (n) {
    words.push(
      ['tg.net.ip', pattern('net.ip', n.ip, IPV4, 'an IPv4 address')],
      ['tg.net.peer', pattern('net.peer', n.peer, IPV4, 'an IPv4 address')],
      ['tg.net.peermac', pattern('net.peerMac', n.peerMac, MAC, 'a MAC address like 02:00:00:00:00:01')],
      ['tg.net.port', whole('net.port', n.port, 1, 65535)],
      ['tg.net.count', whole('net.packets', n.packets, 1, 2 ** 32)],
      ['tg.net.size', whole('net.payloadBytes', n.payloadBytes, 16, 1472)],
      ['tg.net.window', whole('net.window', n.window, 1, 128)],
    );
  }
  if (settings.rng) {
    words.push(
      ['tg.rng.bytes', whole('rng.bytes', settings.rng.bytes, 1, 2 ** 36)],
      ['tg.rng.req', whole('rng.requestBytes', settings.rng.requestBytes, 1, 2 ** 20)],
    );
  }
  return words
    .filter((w): w is [string, string] => w[1] !== undefined)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}
