#include "strbuf.h"

void sb_char(struct strbuf *sb, char c) {
  if (sb->len + 1 >= sb->cap) return;
  sb->data[sb->len++] = c;
  sb->data[sb->len] = 0;
}

void sb_mem(struct strbuf *sb, const char *s, usize n) {
  for (usize i = 0; i < n; i++) sb_char(sb, s[i]);
}

void sb_str(struct strbuf *sb, const char *s) { sb_mem(sb, s, strlen(s)); }

void sb_u64(struct strbuf *sb, u64 value) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = (char)('0' + value % 10);
    value /= 10;
  } while (value);
  while (n) sb_char(sb, digits[--n]);
}

void sb_hex(struct strbuf *sb, u64 value) {
  char digits[16];
  int n = 0;
  do {
    digits[n++] = "0123456789abcdef"[value & 0xf];
    value >>= 4;
  } while (value);
  sb_str(sb, "0x");
  while (n) sb_char(sb, digits[--n]);
}

void sb_json_string(struct strbuf *sb, const char *s) {
  sb_char(sb, '"');
  for (; *s; s++) {
    u8 c = (u8)*s;
    if (c == '"' || c == '\\') {
      sb_char(sb, '\\');
      sb_char(sb, (char)c);
    } else if (c < 0x20 || c >= 0x7f) {
      sb_str(sb, "\\u00");
      sb_char(sb, "0123456789abcdef"[c >> 4]);
      sb_char(sb, "0123456789abcdef"[c & 0xf]);
    } else {
      sb_char(sb, (char)c);
    }
  }
  sb_char(sb, '"');
}
