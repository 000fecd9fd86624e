/* Ethernet, IPv4 and UDP headers, and the payload pattern. */
#include "udp.h"

static void put16(u8 *p, u16 v) {
  p[0] = (u8)(v >> 8);
  p[1] = (u8)v;
}
static u16 get16(const u8 *p) { return (u16)(p[0] << 8 | p[1]); }
static void put32le(u8 *p, u32 v) {
  for (int i = 0; i < 4; i++) p[i] = (u8)(v >> (8 * i));
}
static u32 get32le(const u8 *p) { return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24; }

static u16 ipv4_checksum(const u8 *header) {
  u32 sum = 0;
  for (int i = 0; i < IPV4_HEADER; i += 2) sum += get16(header + i);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (u16)~sum;
}

u32 udp_frame(const struct udp_endpoints *ep, u8 *frame, u32 payload_len, u16 ip_id) {
  u8 *eth = frame, *ip = frame + ETH_HEADER, *udp = ip + IPV4_HEADER;
  memcpy(eth, ep->peer_mac, 6);
  memcpy(eth + 6, ep->mac, 6);
  put16(eth + 12, 0x0800);
  ip[0] = 0x45; /* IPv4, 5-word header */
  ip[1] = 0;
  put16(ip + 2, (u16)(IPV4_HEADER + UDP_HEADER + payload_len));
  put16(ip + 4, ip_id);
  put16(ip + 6, 0x4000); /* don't fragment */
  ip[8] = 64;            /* TTL */
  ip[9] = 17;            /* UDP */
  put16(ip + 10, 0);
  memcpy(ip + 12, ep->ip, 4);
  memcpy(ip + 16, ep->peer_ip, 4);
  put16(ip + 10, ipv4_checksum(ip));
  put16(udp, ep->port);
  put16(udp + 2, ep->port);
  put16(udp + 4, (u16)(UDP_HEADER + payload_len));
  put16(udp + 6, 0); /* no checksum (allowed over IPv4) */
  return UDP_FRAME_OVERHEAD + payload_len;
}

const u8 *udp_payload(const struct udp_endpoints *ep, const u8 *frame, u32 frame_len, u32 *payload_len) {
  if (frame_len < UDP_FRAME_OVERHEAD) return NULL;
  const u8 *ip = frame + ETH_HEADER, *udp = ip + IPV4_HEADER;
  if (memcmp(frame, ep->mac, 6) != 0 || get16(frame + 12) != 0x0800) return NULL;
  if (ip[0] != 0x45 || ip[9] != 17 || memcmp(ip + 16, ep->ip, 4) != 0 || get16(udp + 2) != ep->port) return NULL;
  u32 ip_len = get16(ip + 2), udp_len = get16(udp + 4);
  if (ip_len > frame_len - ETH_HEADER || udp_len != ip_len - IPV4_HEADER || udp_len < UDP_HEADER) return NULL;
  *payload_len = udp_len - UDP_HEADER;
  return udp + UDP_HEADER;
}

void payload_fill(u8 *payload, const char tag[4], u32 seq, u32 len) {
  memcpy(payload, tag, 4);
  put32le(payload + 4, seq);
  u8 b = (u8)(seq * 7);
  for (u32 i = PAYLOAD_HEADER; i < len; i++) payload[i] = (u8)(b + i);
}

bool payload_check(const u8 *payload, u32 len, const char tag[4], u32 *seq) {
  if (len < PAYLOAD_HEADER || memcmp(payload, tag, 4) != 0) return false;
  *seq = get32le(payload + 4);
  u8 b = (u8)(*seq * 7);
  for (u32 i = PAYLOAD_HEADER; i < len; i++)
    if (payload[i] != (u8)(b + i)) return false;
  return true;
}
