/*
 * COM1 output by polling. Each port access is an exit to the VMM, so the
 * line status is read once per 16 bytes (the 16550A's transmit FIFO, which
 * the first write enables) rather than before every byte.
 */
#include "console.h"

#define COM1 0x3f8
#define UART_THR 0
#define UART_FCR 2
#define UART_LSR 5
#define UART_FCR_ENABLE_FIFO 0x01
#define UART_FCR_CLEAR 0x06
#define UART_LSR_THRE 0x20
#define UART_FIFO_SIZE 16
/* Give up waiting for the transmitter after this many polls: output is best effort, never a hang. */
#define THRE_POLLS 100000

static bool fifo_on;

static void wait_transmitter_empty(void) {
  for (int i = 0; i < THRE_POLLS; i++)
    if (inb(COM1 + UART_LSR) & UART_LSR_THRE) return;
}

void console_write_n(const char *s, usize n) {
  if (!fifo_on) {
    outb(COM1 + UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR);
    fifo_on = true;
  }
  while (n > 0) {
    wait_transmitter_empty();
    usize burst = n < UART_FIFO_SIZE ? n : UART_FIFO_SIZE;
    for (usize i = 0; i < burst; i++) outb(COM1 + UART_THR, (u8)s[i]);
    s += burst;
    n -= burst;
  }
}

void console_write(const char *s) { console_write_n(s, strlen(s)); }

void console_write_hex(u64 value) {
  char buf[18];
  int i = sizeof buf;
  do {
    buf[--i] = "0123456789abcdef"[value & 0xf];
    value >>= 4;
  } while (value != 0);
  buf[--i] = 'x';
  buf[--i] = '0';
  console_write_n(buf + i, sizeof buf - (usize)i);
}
