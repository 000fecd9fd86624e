/* Command-line parsing. Every parser checks its whole input and fails rather than guess. */
#include "cmdline.h"

bool cmdline_next(const char **cursor, struct cmdline_word *word) {
  const char *p = *cursor;
  while (*p == ' ' || *p == '\t' || *p == '\n') p++;
  if (*p == 0) return false;
  const char *start = p;
  while (*p && *p != ' ' && *p != '\t' && *p != '\n') p++;
  *cursor = p;
  const char *eq = start;
  while (eq < p && *eq != '=') eq++;
  word->key = start;
  word->key_len = (usize)(eq - start);
  word->value = eq < p ? eq + 1 : p;
  word->value_len = eq < p ? (usize)(p - eq - 1) : 0;
  return true;
}

static int digit_value(char c, unsigned base) {
  int v = c >= '0' && c <= '9'   ? c - '0'
          : c >= 'a' && c <= 'f' ? c - 'a' + 10
          : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                 : 99;
  return v < (int)base ? v : -1;
}

/* Parses digits of s[0..n) in `base`; fails on overflow or a stray character. */
static bool parse_digits(const char *s, usize n, unsigned base, u64 *out) {
  if (n == 0) return false;
  u64 value = 0;
  for (usize i = 0; i < n; i++) {
    int d = digit_value(s[i], base);
    if (d < 0 || value > (~0ULL - (u64)d) / base) return false;
    value = value * base + (u64)d;
  }
  *out = value;
  return true;
}

bool parse_u64(const char *s, usize n, u64 *out) {
  unsigned shift = 0;
  if (n > 0) {
    char last = s[n - 1];
    shift = last == 'K' || last == 'k' ? 10 : last == 'M' || last == 'm' ? 20 : last == 'G' || last == 'g' ? 30 : 0;
    if (shift) n--;
  }
  u64 value;
  bool ok = n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? parse_digits(s + 2, n - 2, 16, &value)
                                                                   : parse_digits(s, n, 10, &value);
  if (!ok || (shift && value > (~0ULL >> shift))) return false;
  *out = value << shift;
  return true;
}

static usize find(const char *s, usize n, char c) {
  for (usize i = 0; i < n; i++)
    if (s[i] == c) return i;
  return n;
}

bool parse_virtio_mmio_entry(const char *s, usize n, struct virtio_mmio_entry *out) {
  usize at = find(s, n, '@');
  if (at == n) return false;
  usize colon = at + 1 + find(s + at + 1, n - at - 1, ':');
  if (colon >= n) return false;
  usize id = colon + 1 + find(s + colon + 1, n - colon - 1, ':'); /* an optional platform device id */
  u64 irq;
  if (!parse_u64(s, at, &out->size) || !parse_u64(s + at + 1, colon - at - 1, &out->base) ||
      !parse_u64(s + colon + 1, id - colon - 1, &irq) || irq > 0xffffffffULL || out->size == 0)
    return false;
  out->irq = (u32)irq;
  return true;
}

bool parse_mac(const char *s, usize n, u8 mac[6]) {
  if (n != 17) return false;
  for (int i = 0; i < 6; i++) {
    int hi = digit_value(s[3 * i], 16), lo = digit_value(s[3 * i + 1], 16);
    if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':')) return false;
    mac[i] = (u8)(hi << 4 | lo);
  }
  return true;
}

bool parse_ipv4(const char *s, usize n, u8 ip[4]) {
  usize start = 0;
  for (int i = 0; i < 4; i++) {
    usize end = start + find(s + start, n - start, '.');
    if ((i < 3) != (end < n)) return false;
    u64 part;
    if (end - start > 3 || !parse_digits(s + start, end - start, 10, &part) || part > 255) return false;
    ip[i] = (u8)part;
    start = end + 1;
  }
  return true;
}
