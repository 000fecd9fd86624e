/*
 * Exit loops: user-mode port writes and MMIO reads that only the VMM answers,
 * each one exit to user space and back. ns / ops is the round trip.
 */
#include "clock.h"
#include "console.h"
#include "workloads.h"

#define WARMUP 200

void work_pio(const struct config *cfg, struct work_result *r) {
  u16 port = (u16)cfg->pio_port;
  for (int i = 0; i < WARMUP; i++) outb(port, 0);
  u64 t0 = clock_ns();
  for (u64 i = 0; i < cfg->exits; i++) outb(port, (u8)i);
  r->ns = clock_ns() - t0;
  r->ops = cfg->exits;
}

void work_mmio(const struct config *cfg, struct work_result *r) {
  volatile u32 *addr = (volatile u32 *)cfg->mmio_addr;
  u32 sum = 0;
  for (int i = 0; i < WARMUP; i++) sum += *addr;
  u64 t0 = clock_ns();
  for (u64 i = 0; i < cfg->exits; i++) sum += *addr;
  r->ns = clock_ns() - t0;
  r->ops = cfg->exits;
  /* What unclaimed MMIO reads as differs between VMMs; report it, do not judge it. */
  struct strbuf note = STRBUF(r->note);
  sb_str(&note, "reads sum to ");
  sb_hex(&note, sum);
}

void work_idle(const struct config *cfg, struct work_result *r) {
  console_write("tsvmm-test-guest: idle\n");
  u64 t0 = clock_ns();
  if (!clock_available()) {
    result_fail(r, "no clock to idle by");
    return;
  }
  while (clock_ns() - t0 < cfg->idle_ms * 1000000ULL) cpu_relax();
  r->ns = clock_ns() - t0;
}
