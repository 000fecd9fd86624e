/*
 * The little IPv4/UDP the network workloads speak with the host peer: frames
 * built and checked by hand, no ARP (the host has a static neighbour entry
 * and the guest is told the peer's MAC). Payloads start with a 4-byte tag
 * and a 32-bit sequence number; the rest is a pattern of the sequence number
 * that the receiver checks byte for byte.
 *
 *   "TGTX" seq pattern...        guest -> peer, net-tx data
 *   "TGRQ" first count size      guest -> peer, net-rx: send me `count` packets from `first`
 *   "TGRX" seq pattern...        peer -> guest, net-rx data
 */
#ifndef TG_UDP_H
#define TG_UDP_H
#include "common.h"
#include "config.h"

#define ETH_HEADER 14
#define IPV4_HEADER 20
#define UDP_HEADER 8
#define UDP_FRAME_OVERHEAD (ETH_HEADER + IPV4_HEADER + UDP_HEADER)
#define PAYLOAD_HEADER 8

struct udp_endpoints {
  u8 mac[6], peer_mac[6];
  u8 ip[4], peer_ip[4];
  u16 port;
};

/* Writes an Ethernet/IPv4/UDP frame around `payload_len` bytes already at frame + UDP_FRAME_OVERHEAD. */
u32 udp_frame(const struct udp_endpoints *ep, u8 *frame, u32 payload_len, u16 ip_id);
/* The UDP payload of a frame addressed to us (our MAC, IP and port), or NULL. */
const u8 *udp_payload(const struct udp_endpoints *ep, const u8 *frame, u32 frame_len, u32 *payload_len);
/* Writes the tag, the sequence number and the pattern into a payload of `len` bytes. */
void payload_fill(u8 *payload, const char tag[4], u32 seq, u32 len);
/* Whether a payload has this tag and a correct pattern for its sequence number (returned in *seq). */
bool payload_check(const u8 *payload, u32 len, const char tag[4], u32 *seq);

#endif
