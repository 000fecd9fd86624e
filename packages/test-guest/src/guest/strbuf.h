/* A bounded string builder: text past the capacity is dropped, never written out of bounds. */
#ifndef TG_STRBUF_H
#define TG_STRBUF_H
#include "common.h"

struct strbuf {
  char *data;
  usize len;
  usize cap; /* including the terminating NUL */
};

#define STRBUF(array) ((struct strbuf){(array), 0, sizeof(array)})

void sb_char(struct strbuf *sb, char c);
void sb_str(struct strbuf *sb, const char *s);
void sb_mem(struct strbuf *sb, const char *s, usize n);
void sb_u64(struct strbuf *sb, u64 value);
void sb_hex(struct strbuf *sb, u64 value);
/* A JSON string literal, quotes and escapes included. */
void sb_json_string(struct strbuf *sb, const char *s);

#endif
