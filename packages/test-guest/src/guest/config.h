/*
 * The test guest's settings, from `tg.<name>=<value>` words on the command
 * line (see the package README for the list), and the devices from
 * `virtio_mmio.device=` words.
 */
#ifndef TG_CONFIG_H
#define TG_CONFIG_H
#include "cmdline.h"
#include "common.h"

#define MAX_WORK 16
#define MAX_DEVICES 8

struct work_name {
  const char *name;
  usize len;
};

struct config {
  struct work_name work[MAX_WORK]; /* tg.work=a,b,c: run in this order */
  u32 work_count;
  struct virtio_mmio_entry devices[MAX_DEVICES];
  u32 device_count;
  u64 queue_size; /* tg.queue: entries per virtqueue (rounded down to the device's maximum) */
  /* Block workloads. */
  u64 blk_bytes; /* tg.blk.bytes: bytes each sequential pass moves */
  u64 blk_req;   /* tg.blk.req: bytes per sequential request */
  u64 blk_depth; /* tg.blk.depth: requests in flight */
  u64 blk_seed;  /* tg.blk.seed: the pattern seed the disk image was written with */
  u64 blk_wseed; /* tg.blk.wseed: the pattern seed blk-write writes */
  u64 blk_woff;  /* tg.blk.woff: where blk-write writes (bytes) */
  u64 rand_count; /* tg.rand.count: 4 KiB random reads */
  /* Expectations for conformance (0 / empty: not checked). */
  u64 blk_sectors;  /* tg.blk.sectors */
  char blk_serial[21]; /* tg.blk.serial */
  /* Network workloads. */
  u8 net_peer_mac[6]; /* tg.net.peermac */
  u8 net_ip[4];       /* tg.net.ip */
  u8 net_peer_ip[4];  /* tg.net.peer */
  u64 net_port;       /* tg.net.port: UDP port on both ends */
  bool net_configured;
  u64 net_count;  /* tg.net.count: packets each direction */
  u64 net_size;   /* tg.net.size: UDP payload bytes */
  u64 net_window; /* tg.net.window: packets the peer sends per request (net-rx) */
  /* virtio-rng. */
  u64 rng_bytes; /* tg.rng.bytes */
  u64 rng_req;   /* tg.rng.req: bytes per request */
  /* Exit loops. */
  u64 exits;     /* tg.exits: iterations of each exit loop */
  u64 pio_port;  /* tg.pio: the port the PIO loop writes */
  u64 mmio_addr; /* tg.mmio: the address the MMIO loop reads (nothing may be mapped there) */
  u64 idle_ms;   /* tg.idle.ms */
};

/* Parses the command line into *config; on a bad word, returns false with *bad set to it. */
bool config_parse(struct config *config, const char *cmdline, struct cmdline_word *bad);

#endif
