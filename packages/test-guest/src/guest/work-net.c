/* Network workloads against the host peer (see udp.h for the protocol). */
#include "clock.h"
#include "udp.h"
#include "workloads.h"

#define TX_TIMEOUT_NS 5000000000ULL
/*
 * A window the peer has not finished within this long is asked for again (the
 * peer, a process on a busy host, may stall, or drop what it sends); after
 * WINDOW_RETRIES more tries its missing packets count as lost.
 */
#define WINDOW_TIMEOUT_NS 1000000000ULL
#define WINDOW_RETRIES 3
#define WINDOWS_IN_FLIGHT 4

static bool endpoints(const struct config *cfg, const struct virtio_net *net, struct udp_endpoints *ep,
                      struct work_result *r) {
  static const u8 zero[6];
  if (!cfg->net_configured || memcmp(cfg->net_peer_mac, zero, 6) == 0 || memcmp(cfg->net_ip, zero, 4) == 0) {
    result_fail(r, "needs tg.net.ip, tg.net.peer and tg.net.peermac");
    return false;
  }
  if (!net->has_mac) {
    result_fail(r, "the device has no MAC address (VIRTIO_NET_F_MAC)");
    return false;
  }
  memcpy(ep->mac, net->mac, 6);
  memcpy(ep->peer_mac, cfg->net_peer_mac, 6);
  memcpy(ep->ip, cfg->net_ip, 4);
  memcpy(ep->peer_ip, cfg->net_peer_ip, 4);
  ep->port = (u16)cfg->net_port;
  return true;
}

/* Sends one packet whose payload the caller writes through fill(); false if no buffer came free in time. */
static bool send_packet(struct virtio_net *net, const struct udp_endpoints *ep, const char tag[4], u32 seq,
                        u32 payload_len, const u32 *extra, u32 extra_words, u32 *tx_bad_len) {
  struct net_buffer *buf;
  u64 start = clock_ns();
  while ((buf = virtio_net_tx_buffer(net)) == NULL) {
    virtio_net_tx_reclaim(net, tx_bad_len);
    if (clock_ns() - start > TX_TIMEOUT_NS) return false;
  }
  u8 *payload = buf->frame + UDP_FRAME_OVERHEAD;
  payload_fill(payload, tag, seq, payload_len);
  for (u32 i = 0; i < extra_words; i++) memcpy(payload + PAYLOAD_HEADER + 4 * i, &extra[i], 4);
  return virtio_net_send(net, buf, udp_frame(ep, buf->frame, payload_len, (u16)seq));
}

void work_net_tx(const struct config *cfg, struct virtio_net *net, struct work_result *r) {
  struct udp_endpoints ep;
  if (!endpoints(cfg, net, &ep, r)) return;
  u32 size = (u32)cfg->net_size, bad_len = 0;
  u64 sent = 0, completed = 0;
  u64 t0 = clock_ns(), last_progress = t0;
  while (completed < cfg->net_count) {
    bool added = false;
    struct net_buffer *buf;
    while (sent < cfg->net_count && (buf = virtio_net_tx_buffer(net)) != NULL) {
      u8 *payload = buf->frame + UDP_FRAME_OVERHEAD;
      payload_fill(payload, "TGTX", (u32)sent, size);
      if (!virtio_net_send(net, buf, udp_frame(&ep, buf->frame, size, (u16)sent))) break;
      sent++;
      added = true;
    }
    if (added) virtq_kick(&net->tx);
    u32 n = virtio_net_tx_reclaim(net, &bad_len);
    completed += n;
    u64 now = clock_ns();
    if (n) last_progress = now;
    else if (now - last_progress > TX_TIMEOUT_NS) {
      result_fail(r, "transmit stalled: the device stopped using buffers");
      break;
    }
  }
  r->ns = clock_ns() - t0;
  r->ops = completed;
  r->bytes = completed * size;
  if (bad_len) {
    r->errors++;
    result_fail(r, "a transmit buffer came back with a non-zero used length");
  }
}

struct window {
  u32 first, count, received, retries;
  u64 asked_ns;
  u64 seen[2]; /* which of up to 128 packets arrived */
};

/* Asks the peer for window `w` ("TGRQ first count size"); the packets it already has come again as duplicates. */
static bool ask(struct virtio_net *net, const struct udp_endpoints *ep, struct window *w, u32 size, u32 *bad_len) {
  u32 request[2] = {w->count, size};
  w->asked_ns = clock_ns();
  return send_packet(net, ep, "TGRQ", w->first, PAYLOAD_HEADER + sizeof request, request, 2, bad_len);
}

void work_net_rx(const struct config *cfg, struct virtio_net *net, struct work_result *r) {
  struct udp_endpoints ep;
  if (!endpoints(cfg, net, &ep, r)) return;
  u32 size = (u32)cfg->net_size, window_size = (u32)cfg->net_window, bad_len = 0;
  if (window_size * WINDOWS_IN_FLIGHT > net->rx.size) window_size = net->rx.size / WINDOWS_IN_FLIGHT;
  struct window windows[WINDOWS_IN_FLIGHT];
  u32 oldest = 0, open = 0;
  u64 next_seq = 0, done = 0, lost = 0, stray = 0;
  u64 t0 = clock_ns(), t_last = t0;
  while (done < cfg->net_count) {
    /* Ask for more while fewer than WINDOWS_IN_FLIGHT windows are open. */
    bool asked = false;
    while (open < WINDOWS_IN_FLIGHT && next_seq < cfg->net_count) {
      struct window *w = &windows[(oldest + open) % WINDOWS_IN_FLIGHT];
      u64 left = cfg->net_count - next_seq;
      *w = (struct window){(u32)next_seq, left < window_size ? (u32)left : window_size, 0, 0, 0, {0, 0}};
      if (!ask(net, &ep, w, size, &bad_len)) {
        result_fail(r, "could not send a request to the peer");
        goto out;
      }
      next_seq += w->count;
      open++;
      asked = true;
    }
    if (asked) virtq_kick(&net->tx);
    virtio_net_tx_reclaim(net, &bad_len);
    /* Take every frame there is; give the buffers back; then check the oldest window's deadline. */
    u32 frame_len, recycled = 0;
    struct net_buffer *buf;
    while ((buf = virtio_net_receive(net, &frame_len, NULL)) != NULL) {
      u32 payload_len, seq;
      const u8 *payload = udp_payload(&ep, buf->frame, frame_len, &payload_len);
      bool good = payload && payload_len == size && payload_check(payload, payload_len, "TGRX", &seq);
      struct window *w = NULL;
      for (u32 i = 0; good && i < open; i++) {
        struct window *c = &windows[(oldest + i) % WINDOWS_IN_FLIGHT];
        if (seq >= c->first && seq - c->first < c->count) w = c;
      }
      u32 bit = w ? seq - w->first : 0;
      if (w && !(w->seen[bit / 64] & (1ULL << (bit % 64)))) {
        w->seen[bit / 64] |= 1ULL << (bit % 64);
        w->received++;
        r->bytes += size;
        r->ops++;
        t_last = clock_ns();
      } else {
        stray++; /* not ours, a duplicate, or from a window already written off */
      }
      virtio_net_recycle(net, buf);
      recycled++;
    }
    if (recycled) virtq_kick(&net->rx);
    while (open > 0) {
      struct window *w = &windows[oldest];
      bool late = clock_ns() - w->asked_ns > WINDOW_TIMEOUT_NS;
      if (w->received < w->count && !late) break;
      if (w->received < w->count && w->retries < WINDOW_RETRIES) {
        w->retries++;
        if (!ask(net, &ep, w, size, &bad_len)) {
          result_fail(r, "could not send a request to the peer");
          goto out;
        }
        virtq_kick(&net->tx);
        break;
      }
      lost += w->count - w->received;
      done += w->count;
      oldest = (oldest + 1) % WINDOWS_IN_FLIGHT;
      open--;
    }
  }
out:
  r->ns = t_last - t0;
  r->errors = lost;
  if (lost) {
    char why[NOTE_SIZE];
    struct strbuf sb = STRBUF(why);
    sb_u64(&sb, lost);
    sb_str(&sb, " packets from the peer never arrived (each window asked for ");
    sb_u64(&sb, WINDOW_RETRIES + 1);
    sb_str(&sb, " times)");
    result_fail(r, why);
  }
  if (bad_len) result_fail(r, "a transmit buffer came back with a non-zero used length");
  char note[NOTE_SIZE];
  struct strbuf sb = STRBUF(note);
  if (stray && r->ok) {
    sb_str(&sb, "ignored frames: ");
    sb_u64(&sb, stray);
    memcpy(r->note, note, sizeof note);
  }
}
