/* Command-line settings with their defaults. */
#include "config.h"

static const struct config defaults = {
    .queue_size = 256,
    .blk_bytes = 64ULL << 20,
    .blk_req = 256ULL << 10,
    .blk_depth = 8,
    .blk_seed = 0x5eed,
    .blk_wseed = 0x1dea,
    .blk_woff = 0,
    .rand_count = 4096,
    .net_port = 7777,
    .net_count = 20000,
    .net_size = 1472,
    .net_window = 64,
    .rng_bytes = 4ULL << 20,
    .rng_req = 64ULL << 10,
    .exits = 20000,
    .pio_port = 0x80,
    .mmio_addr = 0xc0000000,
    .idle_ms = 1000,
};

struct number_setting {
  const char *key;
  usize offset;
  u64 min, max;
};

#define SETTING(key, field, min, max) {key, __builtin_offsetof(struct config, field), min, max}
static const struct number_setting numbers[] = {
    SETTING("tg.queue", queue_size, 1, 32768),
    SETTING("tg.blk.bytes", blk_bytes, 512, 1ULL << 40),
    SETTING("tg.blk.req", blk_req, 512, 1ULL << 22),
    SETTING("tg.blk.depth", blk_depth, 1, 128),
    SETTING("tg.blk.seed", blk_seed, 0, 0xffffffff),
    SETTING("tg.blk.wseed", blk_wseed, 0, 0xffffffff),
    SETTING("tg.blk.woff", blk_woff, 0, 1ULL << 50),
    SETTING("tg.blk.sectors", blk_sectors, 0, ~0ULL),
    SETTING("tg.rand.count", rand_count, 1, 1ULL << 32),
    SETTING("tg.net.port", net_port, 1, 65535),
    SETTING("tg.net.count", net_count, 1, 1ULL << 32),
    SETTING("tg.net.size", net_size, 16, 1472),
    SETTING("tg.net.window", net_window, 1, 128),
    SETTING("tg.rng.bytes", rng_bytes, 1, 1ULL << 36),
    SETTING("tg.rng.req", rng_req, 1, 1ULL << 20),
    SETTING("tg.exits", exits, 1, 1ULL << 32),
    SETTING("tg.pio", pio_port, 0, 0xffff),
    SETTING("tg.mmio", mmio_addr, 0, 0xfffffffc),
    SETTING("tg.idle.ms", idle_ms, 0, 600000),
};

static bool parse_work(struct config *c, const char *s, usize n) {
  usize start = 0;
  while (start < n) {
    usize end = start;
    while (end < n && s[end] != ',') end++;
    if (end == start || c->work_count == MAX_WORK) return false;
    c->work[c->work_count++] = (struct work_name){s + start, end - start};
    start = end + 1;
  }
  return c->work_count > 0;
}

static bool parse_word(struct config *c, const struct cmdline_word *w) {
  if (str_eq(w->key, w->key_len, "virtio_mmio.device")) {
    if (c->device_count == MAX_DEVICES) return false;
    return parse_virtio_mmio_entry(w->value, w->value_len, &c->devices[c->device_count++]);
  }
  if (w->key_len < 3 || memcmp(w->key, "tg.", 3) != 0) return true; /* not ours */
  if (str_eq(w->key, w->key_len, "tg.work")) return parse_work(c, w->value, w->value_len);
  if (str_eq(w->key, w->key_len, "tg.net.peermac")) return parse_mac(w->value, w->value_len, c->net_peer_mac);
  if (str_eq(w->key, w->key_len, "tg.net.ip")) return parse_ipv4(w->value, w->value_len, c->net_ip);
  if (str_eq(w->key, w->key_len, "tg.net.peer")) {
    c->net_configured = true;
    return parse_ipv4(w->value, w->value_len, c->net_peer_ip);
  }
  if (str_eq(w->key, w->key_len, "tg.blk.serial")) {
    if (w->value_len >= sizeof c->blk_serial) return false;
    memcpy(c->blk_serial, w->value, w->value_len);
    c->blk_serial[w->value_len] = 0;
    return true;
  }
  for (usize i = 0; i < ARRAY_SIZE(numbers); i++) {
    if (!str_eq(w->key, w->key_len, numbers[i].key)) continue;
    u64 value;
    if (!parse_u64(w->value, w->value_len, &value) || value < numbers[i].min || value > numbers[i].max)
      return false;
    *(u64 *)((u8 *)c + numbers[i].offset) = value;
    return true;
  }
  return false; /* a tg. setting we do not know: a typo must not pass silently */
}

bool config_parse(struct config *config, const char *cmdline, struct cmdline_word *bad) {
  *config = defaults;
  const char *cursor = cmdline;
  struct cmdline_word w;
  while (cmdline_next(&cursor, &w)) {
    if (!parse_word(config, &w)) {
      *bad = w;
      return false;
    }
  }
  return true;
}
