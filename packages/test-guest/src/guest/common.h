/*
 * Types and the few CPU primitives every part of the test guest uses: port
 * I/O, MMIO accessors, barriers. Freestanding: no libc.
 */
#ifndef TG_COMMON_H
#define TG_COMMON_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef signed char s8;
typedef int s32;
typedef long long s64;
typedef unsigned long usize;
typedef _Bool bool;
#define true 1
#define false 0
#define NULL ((void *)0)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((u64)(a) - 1))
#define PAGE_SIZE 4096ULL

static inline void outb(u16 port, u8 value) { __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port)); }
static inline u8 inb(u16 port) {
  u8 value;
  __asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port));
  return value;
}

/* Device registers: one access of exactly the register's width, never merged or split. */
static inline u32 mmio_read32(volatile void *addr) { return *(volatile u32 *)addr; }
static inline void mmio_write32(volatile void *addr, u32 value) { *(volatile u32 *)addr = value; }
static inline u8 mmio_read8(volatile void *addr) { return *(volatile u8 *)addr; }

/* Compiler barrier; on x86 stores are not reordered with stores, nor loads with loads. */
#define barrier() __asm__ volatile("" ::: "memory")
/* Full barrier: orders our stores before later loads (needed around notification suppression). */
#define mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)

static inline u64 rdtsc(void) {
  u32 lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((u64)hi << 32) | lo;
}

static inline void cpu_relax(void) { __asm__ volatile("pause"); }

void *memset(void *dst, int c, usize n);
void *memcpy(void *dst, const void *src, usize n);
int memcmp(const void *a, const void *b, usize n);
usize strlen(const char *s);
bool str_eq(const char *a, usize alen, const char *b);

#endif
