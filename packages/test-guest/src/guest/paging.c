/*
 * Page protections on top of entry.S's identity map: the null page unmapped
 * (a stray null pointer faults), and the kernel's own data (GDT, TSS, IDT,
 * page tables, kernel stack) supervisor-only. Everything else, the program,
 * its buffers, the boot data and the device windows, stays user-accessible.
 */
#include "kernel.h"
#include "layout.h"

extern u64 pt0[512];
extern u8 __kdata_start[], __kdata_end[];

void paging_init(void) {
  pt0[0] = 0;
  for (u64 page = (u64)__kdata_start >> 12; page < (u64)__kdata_end >> 12; page++) pt0[page] &= ~(u64)PTE_U;
  u64 cr3;
  __asm__ volatile("mov %%cr3, %0\n\tmov %0, %%cr3" : "=r"(cr3) : : "memory");
}
