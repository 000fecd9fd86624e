/*
 * The serial console: COM1, a 16550A at port 0x3f8, written by polling. Used
 * from kernel and user mode (user mode reaches the ports through the TSS's
 * I/O bitmap).
 */
#ifndef TG_CONSOLE_H
#define TG_CONSOLE_H
#include "common.h"

/* Every results line starts with this; the host finds it in mixed console output. */
#define RESULT_PREFIX "TSVMM-TEST-GUEST "

void console_write_n(const char *s, usize n);
void console_write(const char *s);
/* `0x` and lowercase hex digits, no leading zeros. */
void console_write_hex(u64 value);

#endif
