/*
 * Kernel mode: TSS, IDT, page protections, the clock, then user mode. The
 * whole of it is a few hundred interpreted instructions.
 */
#include "kernel.h"
#include "console.h"
#include "end.h"
#include "layout.h"

extern u64 gdt[GDT_ENTRIES];
extern u8 tss[];
extern u8 idt[];
extern const u64 trap_stubs[32];
extern void trap_end(void);

#define GATE_INTERRUPT 0xe
#define RFLAGS_RESERVED 0x2

static u8 user_stack[USER_STACK_SIZE] __attribute__((aligned(16)));

static void set_gate(unsigned vector, u64 handler, unsigned dpl) {
  u8 *g = idt + vector * 16;
  u16 selector = SEL_KERNEL_CODE;
  u8 type = (u8)(0x80 | (dpl << 5) | GATE_INTERRUPT);
  g[0] = (u8)handler;
  g[1] = (u8)(handler >> 8);
  g[2] = (u8)selector;
  g[3] = (u8)(selector >> 8);
  g[4] = 0; /* no IST */
  g[5] = type;
  g[6] = (u8)(handler >> 16);
  g[7] = (u8)(handler >> 24);
  *(u32 *)(g + 8) = (u32)(handler >> 32);
  *(u32 *)(g + 12) = 0;
}

static void load_tss(void) {
  u64 base = (u64)tss;
  u64 limit = TSS_LIMIT;
  gdt[SEL_TSS / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40) |
                     (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
  gdt[SEL_TSS / 8 + 1] = base >> 32;
  __asm__ volatile("ltr %w0" : : "r"(SEL_TSS));
}

static void load_idt(void) {
  for (unsigned v = 0; v < 32; v++) set_gate(v, trap_stubs[v], 0);
  struct __attribute__((packed)) {
    u16 limit;
    u64 base;
  } pointer = {256 * 16 - 1, (u64)idt};
  __asm__ volatile("lidt %0" : : "m"(pointer));
}

/* Enters user_main(start_info) at CPL3 with interrupts off; ports come from the TSS's I/O bitmap. */
static void __attribute__((noreturn)) enter_user(const struct hvm_start_info *start_info) {
  u64 stack_top = (u64)(user_stack + sizeof user_stack) - 8; /* as if called: rsp+8 is 16-aligned */
  __asm__ volatile(
      "movw %w[ds], %%ax\n\t"
      "movw %%ax, %%ds\n\t"
      "movw %%ax, %%es\n\t"
      "pushq %[ss]\n\t"
      "pushq %[rsp]\n\t"
      "pushq %[rflags]\n\t"
      "pushq %[cs]\n\t"
      "pushq %[rip]\n\t"
      "iretq"
      :
      : [ds] "r"((u64)SEL_USER_DATA), [ss] "i"(SEL_USER_DATA), [rsp] "r"(stack_top),
        [rflags] "i"(RFLAGS_RESERVED), [cs] "i"(SEL_USER_CODE), [rip] "r"((u64)user_main),
        "D"(start_info)
      : "rax", "memory");
  __builtin_unreachable();
}

void kernel_main(const struct hvm_start_info *start_info) {
  console_write("tsvmm-test-guest: entered\n");
  load_tss();
  load_idt();
  paging_init();
  kvmclock_init();
  enter_user(start_info);
}

static void print_field(const char *name, u64 value) {
  console_write(",\"");
  console_write(name);
  console_write("\":\"");
  console_write_hex(value);
  console_write("\"");
}

/* One results line saying where user (or kernel) mode faulted; or the end end.c asked for. */
void trap(const struct trap_frame *f) {
  if (f->vector == 6 && f->rip == (u64)tg_end_ud2) trap_end();
  u64 cr2;
  __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
  console_write("\n" RESULT_PREFIX "{\"v\":1,\"status\":\"fault\"");
  print_field("vector", f->vector);
  print_field("error", f->error);
  print_field("rip", f->rip);
  print_field("cs", f->cs);
  print_field("rsp", f->rsp);
  print_field("cr2", cr2);
  console_write("}\n");
  /* A crash ends by a triple fault, not through the devices end.c uses: the VMM's exit tells them apart. */
  trap_end();
}
