/**
 * MAC addresses as the virtio-net configuration space holds them: six bytes,
 * written `02:00:00:00:00:01`.
 */
import { webcrypto } from 'node:crypto';

const MAC_RE = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;

/**
 * Parses `aa:bb:cc:dd:ee:ff` (hex digits of either case).
 * @throws TypeError if `text` is not a string; RangeError if it is not a MAC
 *   address or is a multicast one (a NIC's own address is unicast).
 */
export function parseMac(text: string): Uint8Array {
  if (typeof text !== 'string') throw new TypeError(`a MAC address must be a string, got ${typeof text}`);
  if (!MAC_RE.test(text))
    throw new RangeError(`${JSON.stringify(text)} is not a MAC address like 02:00:00:00:00:01`);
  const bytes = Uint8Array.from(text.split(':'), (h) => Number.parseInt(h, 16));
  if ((bytes[0]! & 1) !== 0)
    throw new RangeError(`${text} is a multicast address; a NIC needs a unicast one`);
  return bytes;
}

/** Writes six bytes as `aa:bb:cc:dd:ee:ff` (lower case). @throws RangeError unless there are six. */
export function formatMac(bytes: Uint8Array): string {
  if (bytes.length !== 6) throw new RangeError(`a MAC address has 6 bytes, got ${bytes.length}`);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
}

/**
 * A random locally administered unicast address (first byte `x2`, `x6`,
 * `xa` or `xe`), as a device gets when none is configured: it cannot clash
 * with a vendor-assigned one.
 */
export function randomMac(): Uint8Array {
  const bytes = webcrypto.getRandomValues(new Uint8Array(6));
  bytes[0] = (bytes[0]! & 0xfc) | 0x02;
  return bytes;
}
