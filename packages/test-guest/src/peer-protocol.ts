/**
 * The host side of the test guest's network protocol (udp.h in the guest):
 * payloads start with a 4-byte tag and a 32-bit little-endian sequence
 * number, and byte i (from 8 on) of a payload for sequence number s is
 * (7 s + i) mod 256.
 */
/** The peer's counters. */
export interface NetPeerStats {
  /** "TGTX" packets whose pattern was right, and their payload bytes. */
  txPackets: number;
  txBytes: number;
  /** Packets that were not well-formed guest packets. */
  bad: number;
  /** "TGRQ" requests answered, and packets sent for them. */
  requests: number;
  rxSent: number;
  /** Sends the kernel refused (e.g. a full queue). */
  sendErrors: number;
}

export const MAX_PAYLOAD = 1472;
export const MAX_WINDOW = 1024;
/** PATTERN[k] = k mod 256: a payload's pattern bytes are one slice of it. */
const PATTERN = Uint8Array.from({ length: MAX_PAYLOAD + 256 }, (_, k) => k & 0xff);

/** Whether a payload carries `tag`, a sequence number and the right pattern for it. */
export function checkPayload(payload: Uint8Array, tag: string): boolean {
  if (payload.length < 8 || Buffer.from(payload.buffer, payload.byteOffset, 4).toString('latin1') !== tag)
    return false;
  const seq = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(4, true);
  const b = Math.imul(seq, 7) & 0xff;
  for (let i = 8; i < payload.length; i++) if (payload[i] !== ((b + i) & 0xff)) return false;
  return true;
}

/** A payload of `size` bytes for `seq` with `tag`. */
export function makePayload(tag: string, seq: number, size: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  buf.write(tag, 0, 'latin1');
  buf.writeUInt32LE(seq >>> 0, 4);
  const b = Math.imul(seq, 7) & 0xff;
  buf.set(PATTERN.subarray(b + 8, b + size), 8);
  return buf;
}
