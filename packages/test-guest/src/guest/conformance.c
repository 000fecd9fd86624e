/* The conformance checks (see conformance.h). Section numbers are virtio 1.2's. */
#include "conformance.h"
#include "clock.h"
#include "memory.h"
#include "results.h"
#include "udp.h"
#include "virtio-blk.h"
#include "virtio-net.h"
#include "virtio-rng.h"
#include "workloads.h"

#define TIMEOUT_NS 2000000000ULL
/* How long a used buffer's interrupt may lag behind the buffer. */
#define INTERRUPT_WAIT_NS 200000000ULL
#define QUEUE_SIZE_LIMIT 32768
/* Requests the index-wrap check completes: past the 16-bit ring indices' wrap at 65536. */
#define WRAP_REQUESTS (65536 + 512)

/* The check id "<prefix><name>", e.g. "blk0.reset". */
static const char *check_id(const char *prefix, const char *name) {
  static char id[48];
  struct strbuf sb = STRBUF(id);
  sb_str(&sb, prefix);
  sb_str(&sb, name);
  return id;
}

static void pass_if(const char *prefix, const char *name, bool ok, const char *why) {
  check(check_id(prefix, name), ok, why);
}

/* A check that a value equals what the spec requires, with both in the message when not. */
static bool expect_eq(const char *prefix, const char *name, u64 got, u64 want) {
  char msg[80];
  struct strbuf sb = STRBUF(msg);
  sb_str(&sb, "got ");
  sb_hex(&sb, got);
  sb_str(&sb, ", want ");
  sb_hex(&sb, want);
  check_detail(check_id(prefix, name), got == want, &sb);
  return got == want;
}

/* How many virtqueues a device has, from what it offers (5.1.2, 5.2.2, 5.4.2). */
static u32 queue_count(const struct virtio_mmio_dev *dev) {
  if (dev->device_id == VIRTIO_ID_NET) {
    u32 pairs = dev->offered & (1ULL << VIRTIO_NET_F_MQ) ? virtio_mmio_config32(dev, 8) & 0xffff : 1;
    return 2 * pairs + (dev->offered & (1ULL << VIRTIO_NET_F_CTRL_VQ) ? 1 : 0);
  }
  return 1; /* block without VIRTIO_BLK_F_MQ, rng */
}

/* 4.2.2, 2.1, 2.2, 3.1.1: identification, status, reset and feature negotiation. */
static void check_transport(struct virtio_mmio_dev *dev, const char *p) {
  expect_eq(p, "version-2", dev->version, 2);
  pass_if(p, "device-id", dev->device_id != 0, "device id 0 means no device");
  bool reset = virtio_mmio_reset(dev);
  pass_if(p, "reset-reads-zero", reset, "Status did not read 0 after writing 0");
  virtio_mmio_add_status(dev, VIRTIO_STATUS_ACKNOWLEDGE);
  expect_eq(p, "status-acknowledge", virtio_mmio_status(dev), VIRTIO_STATUS_ACKNOWLEDGE);
  virtio_mmio_add_status(dev, VIRTIO_STATUS_DRIVER);
  expect_eq(p, "status-driver", virtio_mmio_status(dev), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
  u64 offered = virtio_mmio_device_features(dev);
  dev->offered = offered;
  pass_if(p, "offers-version-1", offered & (1ULL << VIRTIO_F_VERSION_1), "VIRTIO_F_VERSION_1 not offered");
  expect_eq(p, "features-stable", virtio_mmio_device_features(dev), offered);
  virtio_mmio_write_driver_features(dev, 1ULL << VIRTIO_F_VERSION_1);
  virtio_mmio_add_status(dev, VIRTIO_STATUS_FEATURES_OK);
  pass_if(p, "features-ok-kept", virtio_mmio_status(dev) & VIRTIO_STATUS_FEATURES_OK,
          "FEATURES_OK refused for the subset {VERSION_1}");
  u32 gen = vmmio_read(dev, VIRTIO_MMIO_CONFIG_GENERATION);
  expect_eq(p, "config-generation-stable", vmmio_read(dev, VIRTIO_MMIO_CONFIG_GENERATION), gen);

  /* Queues: each exists with a usable maximum, the one past the last does not, none is ready yet. */
  u32 queues = queue_count(dev);
  bool max_ok = true, ready_zero = true;
  for (u32 q = 0; q < queues; q++) {
    u32 max = virtio_mmio_queue_max(dev, q);
    max_ok = max_ok && max > 0 && max <= QUEUE_SIZE_LIMIT;
    ready_zero = ready_zero && vmmio_read(dev, VIRTIO_MMIO_QUEUE_READY) == 0;
  }
  pass_if(p, "queue-num-max", max_ok, "a queue has QueueNumMax 0 or above 32768");
  pass_if(p, "queue-ready-after-reset", ready_zero, "QueueReady is not 0 before setup");
  expect_eq(p, "queue-absent", virtio_mmio_queue_max(dev, queues), 0);
}

/* Sets up queue 0 of `dev` as `vq` with `size` entries after a fresh negotiation; reports failures. */
static bool fresh_queue(struct virtio_mmio_dev *dev, const char *p, struct virtq *vq, u16 size) {
  if (!virtio_mmio_negotiate(dev, 0, 1ULL << VIRTIO_F_VERSION_1)) {
    pass_if(p, "negotiate", false, "negotiation failed");
    return false;
  }
  if (!virtq_init(vq, dev, 0, size)) {
    pass_if(p, "queue-setup", false, "no memory for the queue");
    return false;
  }
  virtio_mmio_add_status(dev, VIRTIO_STATUS_DRIVER_OK);
  return true;
}

/*
 * Waits (bounded) for InterruptStatus bit 0. A device puts a buffer in the
 * used ring before it notifies (2.7.7), so a driver that polls the ring can
 * see the buffer a moment before the interrupt.
 */
static bool wait_used_interrupt(const struct virtio_mmio_dev *dev) {
  u64 start = clock_ns();
  do {
    if (vmmio_read(dev, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_VRING) return true;
  } while (clock_ns() - start < INTERRUPT_WAIT_NS);
  return false;
}

/*
 * 4.2.2: InterruptStatus and InterruptACK, with the one request the caller
 * queued (not yet notified) on a queue whose interrupts it asked for.
 */
static void check_interrupts(struct virtio_mmio_dev *dev, const char *p, struct virtq *vq) {
  expect_eq(p, "queue-ready", vmmio_read(dev, VIRTIO_MMIO_QUEUE_READY), 1);
  u32 used;
  virtq_kick(vq);
  bool done = virtq_wait_used(vq, &used, TIMEOUT_NS) != NULL;
  pass_if(p, "interrupt-request-done", done, "the request did not complete");
  pass_if(p, "interrupt-status-used", wait_used_interrupt(dev), "InterruptStatus bit 0 not set");
  vmmio_write(dev, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
  expect_eq(p, "interrupt-ack-clears", vmmio_read(dev, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_VRING, 0);
}

/* 4.2.2.1: after a reset, InterruptStatus and QueueReady read 0 again. */
static void check_reset_clears(struct virtio_mmio_dev *dev, const char *p) {
  virtio_mmio_reset(dev);
  expect_eq(p, "reset-clears-interrupt", vmmio_read(dev, VIRTIO_MMIO_INTERRUPT_STATUS), 0);
  vmmio_write(dev, VIRTIO_MMIO_QUEUE_SEL, 0);
  expect_eq(p, "reset-clears-queue-ready", vmmio_read(dev, VIRTIO_MMIO_QUEUE_READY), 0);
}

/* ---- virtio-rng (5.4) ---- */

static void check_rng(struct virtio_mmio_dev *dev, const char *p) {
  struct virtq vq;
  if (!fresh_queue(dev, p, &vq, 8)) return;
  u8 *buf = mem_alloc(64, 64);
  struct virtq_buf b = {(u64)buf, 64, true};
  virtq_set_interrupts(&vq, true);
  virtq_add(&vq, &b, 1, buf);
  check_interrupts(dev, p, &vq);
  /* A second request, whose interrupt is left pending (not acknowledged) for the reset to clear. */
  virtq_add(&vq, &b, 1, buf);
  virtq_kick(&vq);
  u32 used = 0;
  bool done = virtq_wait_used(&vq, &used, TIMEOUT_NS) != NULL;
  pass_if(p, "used-len", done && used > 0 && used <= 64, "used length not in 1..64 (2.7.8.2)");
  wait_used_interrupt(dev);
  check_reset_clears(dev, p);

  /*
   * A queue smaller than the maximum, used for more requests than the 16-bit
   * ring indices count: they wrap at 65536 (2.7.6, 2.7.8), and the device must
   * keep up across the wrap.
   */
  if (!fresh_queue(dev, p, &vq, 8)) return;
  u8 *small = mem_alloc(8 * 8, 64);
  u32 completed = 0, submitted = 0;
  bool stuck = false;
  while (completed < WRAP_REQUESTS && !stuck) {
    while (submitted < WRAP_REQUESTS && vq.num_free > 0) {
      struct virtq_buf sb = {(u64)(small + 8 * (submitted % 8)), 8, true};
      virtq_add(&vq, &sb, 1, small + 8 * (submitted % 8));
      submitted++;
    }
    virtq_kick(&vq);
    if (!virtq_wait_used(&vq, &used, TIMEOUT_NS)) stuck = true;
    else
      for (completed++; virtq_get_used(&vq, &used); completed++) {
      }
  }
  pass_if(p, "index-wrap", !stuck && completed == WRAP_REQUESTS && vq.bad_used == 0,
          stuck ? "requests stopped completing" : "a used entry named no buffer in flight");
  virtio_mmio_reset(dev);
}

/* ---- virtio-blk (5.2) ---- */

/* One request, waited for; returns the status (0xff: no completion) and the used length. */
static u8 blk_request(struct virtio_blk *blk, struct blk_request *q, u32 type, u64 sector, void *data, u32 len,
                      u32 *used) {
  *used = ~0u;
  if (!virtio_blk_submit(blk, q, type, sector, data, len)) return 0xff;
  virtq_kick(&blk->vq);
  if (virtq_wait_used(&blk->vq, used, TIMEOUT_NS) != q) return 0xff;
  return q->status;
}

static void check_blk(const struct config *cfg, struct virtio_mmio_dev *dev, const char *p) {
  struct virtio_blk blk;
  if (!virtio_blk_init(&blk, dev, 16)) {
    pass_if(p, "setup", false, "driver setup failed");
    return;
  }
  if (cfg->blk_sectors) expect_eq(p, "capacity", blk.capacity, cfg->blk_sectors);
  struct blk_request *q = mem_alloc(sizeof *q, 64);
  u8 *buf = mem_alloc(8192, PAGE_SIZE);
  u32 used;
  u64 first_bad;

  /* Reads: status OK, the data the image holds, used length = data + status byte. */
  u8 s = blk_request(&blk, q, VIRTIO_BLK_T_IN, 8, buf, 4096, &used);
  expect_eq(p, "read-status", s, VIRTIO_BLK_S_OK);
  expect_eq(p, "read-used-len", used, 4096 + 1);
  pass_if(p, "read-data", s == 0 && disk_check(cfg, buf, 8 * 512, 4096, &first_bad) == 0,
          "the data read is not the image's");

  /* A read whose data spans several descriptors (any layout must work with VERSION_1, 2.6.4). */
  memset(buf, 0, 2048);
  q->status = 0xff;
  struct virtq_buf chain[5] = {{(u64)&q->header, sizeof q->header, false},
                               {(u64)buf, 512, true},
                               {(u64)buf + 512, 1024, true},
                               {(u64)buf + 1536, 512, true},
                               {(u64)&q->status, 1, true}};
  q->header = (struct virtio_blk_req_header){VIRTIO_BLK_T_IN, 0, 16};
  virtq_add(&blk.vq, chain, 5, q);
  virtq_kick(&blk.vq);
  bool done = virtq_wait_used(&blk.vq, &used, TIMEOUT_NS) == q;
  pass_if(p, "read-split-descriptors",
          done && q->status == 0 && used == 2049 && disk_check(cfg, buf, 16 * 512, 2048, &first_bad) == 0,
          "a read over three data descriptors failed");

  /* A write at the end of the disk, read back; used length = the status byte only. */
  if (!blk.read_only && blk.capacity >= 16) {
    u64 sector = blk.capacity - 8;
    pattern_fill(buf, sector * 512, 4096, (u32)cfg->blk_wseed);
    s = blk_request(&blk, q, VIRTIO_BLK_T_OUT, sector, buf, 4096, &used);
    expect_eq(p, "write-status", s, VIRTIO_BLK_S_OK);
    expect_eq(p, "write-used-len", used, 1);
    memset(buf, 0, 4096);
    s = blk_request(&blk, q, VIRTIO_BLK_T_IN, sector, buf, 4096, &used);
    pass_if(p, "write-read-back", s == 0 && pattern_check(buf, sector * 512, 4096, (u32)cfg->blk_wseed, &first_bad) == 0,
            "the written data did not read back");
  }
  if (dev->features & (1ULL << VIRTIO_BLK_F_FLUSH)) {
    s = blk_request(&blk, q, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, &used);
    expect_eq(p, "flush-status", s, VIRTIO_BLK_S_OK);
    expect_eq(p, "flush-used-len", used, 1);
  }

  /* Bad requests get a status, not silence: beyond the capacity, across its end, an unknown type. */
  s = blk_request(&blk, q, VIRTIO_BLK_T_IN, blk.capacity, buf, 512, &used);
  expect_eq(p, "read-past-end-ioerr", s, VIRTIO_BLK_S_IOERR);
  s = blk_request(&blk, q, VIRTIO_BLK_T_IN, blk.capacity - 1, buf, 1024, &used);
  expect_eq(p, "read-across-end-ioerr", s, VIRTIO_BLK_S_IOERR);
  s = blk_request(&blk, q, 0xff, 0, buf, 512, &used);
  expect_eq(p, "unknown-type-unsupp", s, VIRTIO_BLK_S_UNSUPP);

  /* GET_ID: the serial, NUL-padded to 20 bytes when shorter (5.2.6). */
  memset(buf, 0xee, VIRTIO_BLK_ID_BYTES);
  s = blk_request(&blk, q, VIRTIO_BLK_T_GET_ID, 0, buf, VIRTIO_BLK_ID_BYTES, &used);
  expect_eq(p, "get-id-status", s, VIRTIO_BLK_S_OK);
  if (cfg->blk_serial[0]) {
    usize n = strlen(cfg->blk_serial);
    pass_if(p, "get-id-serial", s == 0 && memcmp(buf, cfg->blk_serial, n) == 0 && (n == 20 || buf[n] == 0),
            "GET_ID did not return the disk's serial");
  }
  /* The device still works after the bad requests. */
  s = blk_request(&blk, q, VIRTIO_BLK_T_IN, 0, buf, 512, &used);
  expect_eq(p, "works-after-bad-requests", s, VIRTIO_BLK_S_OK);
  expect_eq(p, "no-bad-used-entries", blk.vq.bad_used, 0);

  /* InterruptStatus and reset, with one more read. */
  virtq_set_interrupts(&blk.vq, true);
  virtio_blk_submit(&blk, q, VIRTIO_BLK_T_IN, 0, buf, 512);
  check_interrupts(dev, p, &blk.vq);
  check_reset_clears(dev, p);
}

/* ---- virtio-net (5.1) ---- */

static void check_net(const struct config *cfg, struct virtio_mmio_dev *dev, const char *p) {
  struct virtio_net net;
  if (!virtio_net_init(&net, dev, 16)) {
    pass_if(p, "setup", false, "driver setup failed");
    return;
  }
  pass_if(p, "has-mac", net.has_mac, "VIRTIO_NET_F_MAC not offered");
  static const u8 zero[6];
  if (!cfg->net_configured || memcmp(cfg->net_peer_mac, zero, 6) == 0) {
    virtio_mmio_reset(dev);
    return; /* no peer on this run: only the transport checks */
  }
  struct udp_endpoints ep;
  memcpy(ep.mac, net.mac, 6);
  memcpy(ep.peer_mac, cfg->net_peer_mac, 6);
  memcpy(ep.ip, cfg->net_ip, 4);
  memcpy(ep.peer_ip, cfg->net_peer_ip, 4);
  ep.port = (u16)cfg->net_port;

  /* Ask the peer for one packet of 100 bytes; the request's transmit buffer comes back with len 0. */
  u32 size = 100, used = ~0u, frame_len = 0;
  struct net_buffer *tx = virtio_net_tx_buffer(&net);
  u8 *payload = tx->frame + UDP_FRAME_OVERHEAD;
  payload_fill(payload, "TGRQ", 0, 16);
  u32 request[2] = {1, size};
  memcpy(payload + PAYLOAD_HEADER, request, sizeof request);
  virtio_net_send(&net, tx, udp_frame(&ep, tx->frame, 16, 0));
  virtq_kick(&net.tx);
  bool sent = virtq_wait_used(&net.tx, &used, TIMEOUT_NS) != NULL;
  pass_if(p, "tx-done", sent, "the transmit buffer was never used");
  expect_eq(p, "tx-used-len", sent ? used : ~0u, 0);

  /* The answer: header + frame, nothing else, and a header with no offload in it. */
  struct net_buffer *rx = NULL;
  u32 payload_len = 0, seq = 0;
  u64 start = clock_ns();
  for (;;) {
    u32 len;
    u64 waited = clock_ns() - start;
    rx = waited < TIMEOUT_NS ? virtq_wait_used(&net.rx, &len, TIMEOUT_NS - waited) : NULL;
    if (!rx) break;
    used = len;
    frame_len = len - (u32)sizeof(struct virtio_net_hdr);
    const u8 *got = udp_payload(&ep, rx->frame, frame_len, &payload_len);
    if (got && payload_check(got, payload_len, "TGRX", &seq)) break;
    virtio_net_recycle(&net, rx); /* something else on the link: not the answer */
    virtq_kick(&net.rx);
  }
  pass_if(p, "rx-done", rx != NULL, "no answer from the peer");
  if (rx) {
    expect_eq(p, "rx-used-len", used, sizeof(struct virtio_net_hdr) + UDP_FRAME_OVERHEAD + size);
    expect_eq(p, "rx-hdr-flags", rx->hdr.flags, 0);
    expect_eq(p, "rx-hdr-gso-none", rx->hdr.gso_type, VIRTIO_NET_HDR_GSO_NONE);
  }
  expect_eq(p, "no-bad-used-entries", net.rx.bad_used + net.tx.bad_used, 0);
  virtio_mmio_reset(dev);
}

void conformance_run(const struct config *cfg, struct virtio_mmio_dev *devices, u32 count) {
  u32 seen[5] = {0};
  for (u32 i = 0; i < count; i++) {
    struct virtio_mmio_dev *dev = &devices[i];
    char prefix[16];
    struct strbuf sb = STRBUF(prefix);
    sb_str(&sb, virtio_device_name(dev->device_id));
    sb_u64(&sb, dev->device_id < 5 ? seen[dev->device_id]++ : i);
    sb_char(&sb, '.');
    check_transport(dev, prefix);
    if (dev->version != 2) continue; /* legacy devices are not what these checks are about */
    switch (dev->device_id) {
      case VIRTIO_ID_BLOCK: check_blk(cfg, dev, prefix); break;
      case VIRTIO_ID_NET: check_net(cfg, dev, prefix); break;
      case VIRTIO_ID_RNG: check_rng(dev, prefix); break;
      default: break;
    }
  }
}
