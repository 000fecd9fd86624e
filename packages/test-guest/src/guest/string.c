/* The memory and string routines the compiler may call even in freestanding code. */
#include "common.h"

void *memset(void *dst, int c, usize n) {
  u8 *d = dst;
  while (n--) *d++ = (u8)c;
  return dst;
}

void *memcpy(void *dst, const void *src, usize n) {
  u8 *d = dst;
  const u8 *s = src;
  while (n--) *d++ = *s++;
  return dst;
}

int memcmp(const void *a, const void *b, usize n) {
  const u8 *x = a, *y = b;
  for (usize i = 0; i < n; i++)
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  return 0;
}

usize strlen(const char *s) {
  usize n = 0;
  while (s[n]) n++;
  return n;
}

/* Whether the `alen` bytes at `a` are exactly the NUL-terminated string `b`. */
bool str_eq(const char *a, usize alen, const char *b) {
  usize blen = strlen(b);
  return alen == blen && memcmp(a, b, alen) == 0;
}
