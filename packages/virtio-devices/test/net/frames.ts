/**
 * Ethernet frames the tests' guest side sends and reads: IPv4 ICMP echo
 * requests (the namespace's kernel answers them itself) and UDP datagrams,
 * built and parsed byte by byte so that a wrong frame from the device shows.
 */

const ETHERTYPE_IPV4 = 0x0800;
const IPPROTO_ICMP = 1;
const IPPROTO_UDP = 17;

/** Six bytes of `aa:bb:cc:dd:ee:ff`. */
export function macBytes(mac: string): Uint8Array {
  return Uint8Array.from(mac.split(':'), (h) => Number.parseInt(h, 16));
}

function ipBytes(ip: string): Uint8Array {
  return Uint8Array.from(ip.split('.'), Number);
}

/** The Internet checksum (RFC 1071) of `bytes`. */
export function inetChecksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < bytes.length; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (bytes.length % 2 === 1) sum += bytes[bytes.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Addresses of a frame. */
export interface Endpoints {
  srcMac: string;
  dstMac: string;
  srcIp: string;
  dstIp: string;
}

function ipv4Frame(ends: Endpoints, protocol: number, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(14 + 20 + payload.length);
  const v = new DataView(frame.buffer);
  frame.set(macBytes(ends.dstMac), 0);
  frame.set(macBytes(ends.srcMac), 6);
  v.setUint16(12, ETHERTYPE_IPV4);
  const ip = frame.subarray(14, 34);
  ip[0] = 0x45;
  v.setUint16(16, 20 + payload.length);
  v.setUint16(20, 0x4000); // don't fragment
  ip[8] = 64;
  ip[9] = protocol;
  ip.set(ipBytes(ends.srcIp), 12);
  ip.set(ipBytes(ends.dstIp), 16);
  v.setUint16(24, inetChecksum(ip));
  frame.set(payload, 34);
  return frame;
}

/** An ICMP echo request with identifier `id`, sequence `seq` and `data`. */
export function echoRequest(ends: Endpoints, id: number, seq: number, data: Uint8Array): Uint8Array {
  const icmp = new Uint8Array(8 + data.length);
  const v = new DataView(icmp.buffer);
  icmp[0] = 8;
  v.setUint16(4, id);
  v.setUint16(6, seq);
  icmp.set(data, 8);
  v.setUint16(2, inetChecksum(icmp));
  return ipv4Frame(ends, IPPROTO_ICMP, icmp);
}

/** A UDP datagram (checksum 0: none). */
export function udpFrame(ends: Endpoints, srcPort: number, dstPort: number, data: Uint8Array): Uint8Array {
  const udp = new Uint8Array(8 + data.length);
  const v = new DataView(udp.buffer);
  v.setUint16(0, srcPort);
  v.setUint16(2, dstPort);
  v.setUint16(4, udp.length);
  udp.set(data, 8);
  return ipv4Frame(ends, IPPROTO_UDP, udp);
}

/** What {@link parseFrame} found in an IPv4 frame. */
export interface ParsedFrame {
  srcMac: string;
  dstMac: string;
  srcIp: string;
  dstIp: string;
  /** Whether the IPv4 header checksum holds. */
  ipChecksumOk: boolean;
  icmp?: { type: number; id: number; seq: number; data: Uint8Array; checksumOk: boolean };
  udp?: { srcPort: number; dstPort: number; data: Uint8Array };
}

const macText = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');

/** Parses an Ethernet frame carrying IPv4 ICMP or UDP; undefined for anything else. */
export function parseFrame(frame: Uint8Array): ParsedFrame | undefined {
  if (frame.length < 34) return undefined;
  const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (v.getUint16(12) !== ETHERTYPE_IPV4 || (frame[14]! & 0xf0) !== 0x40) return undefined;
  const ihl = (frame[14]! & 0x0f) * 4;
  const total = v.getUint16(16);
  if (14 + total > frame.length) return undefined;
  const body = frame.subarray(14 + ihl, 14 + total);
  const out: ParsedFrame = {
    dstMac: macText(frame.subarray(0, 6)),
    srcMac: macText(frame.subarray(6, 12)),
    srcIp: Array.from(frame.subarray(26, 30)).join('.'),
    dstIp: Array.from(frame.subarray(30, 34)).join('.'),
    ipChecksumOk: inetChecksum(frame.subarray(14, 14 + ihl)) === 0,
  };
  const bv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  if (frame[23] === IPPROTO_ICMP && body.length >= 8) {
    out.icmp = {
      type: body[0]!,
      id: bv.getUint16(4),
      seq: bv.getUint16(6),
      data: body.slice(8),
      checksumOk: inetChecksum(body) === 0,
    };
  } else if (frame[23] === IPPROTO_UDP && body.length >= 8) {
    out.udp = { srcPort: bv.getUint16(0), dstPort: bv.getUint16(2), data: body.slice(8, bv.getUint16(4)) };
  }
  return out;
}
