/*
 * The kernel command line, read the way Linux reads it: space-separated
 * `key=value` words. Devices come from `virtio_mmio.device=<size>@<base>:<irq>`
 * entries (Linux's virtio_mmio.device= syntax, which QEMU microvm and the
 * reference VMM append); the test guest's own settings are `tg.<name>=`.
 */
#ifndef TG_CMDLINE_H
#define TG_CMDLINE_H
#include "common.h"

/* One word of the command line: the key and the value after the first '=' (empty when none). */
struct cmdline_word {
  const char *key;
  usize key_len;
  const char *value;
  usize value_len;
};

/* Reads the next word at *cursor and advances it; false at the end of the line. */
bool cmdline_next(const char **cursor, struct cmdline_word *word);

/* A whole number: decimal or 0x-hex, with an optional K, M or G suffix (powers of 1024). */
bool parse_u64(const char *s, usize n, u64 *out);

struct virtio_mmio_entry {
  u64 base;
  u64 size;
  u32 irq;
};
/* `<size>@<base>:<irq>[:<platform device id>]` */
bool parse_virtio_mmio_entry(const char *s, usize n, struct virtio_mmio_entry *out);

/* `aa:bb:cc:dd:ee:ff` */
bool parse_mac(const char *s, usize n, u8 mac[6]);
/* `a.b.c.d`, returned in network byte order as bytes */
bool parse_ipv4(const char *s, usize n, u8 ip[4]);

#endif
