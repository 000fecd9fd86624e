/*
 * The PVH entry: the VMM starts us in 32-bit protected mode, paging off,
 * with %ebx pointing at struct hvm_start_info. We load our GDT, turn on
 * long mode with the static page tables below, and call kernel_main() in
 * 64-bit mode. Everything here runs at CPL0, which a software KVM
 * interprets: it is kept to a few dozen instructions, and the page tables
 * are built by the assembler, not by a loop.
 */
#include "layout.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define CR0_PE (1 << 0)
#define CR0_MP (1 << 1)
#define CR0_EM (1 << 2)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define CR4_OSFXSR (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)

/* The PVH note: the 32-bit physical entry point (ELF note type 18, owner "Xen"). */
  .section .note.Xen, "a"
  .balign 4
  .long 4f - 3f /* namesz */
  .long 6f - 5f /* descsz */
  .long XEN_ELFNOTE_PHYS32_ENTRY
3: .asciz "Xen"
4: .balign 4
5: .quad pvh_entry
6: .balign 4

  .section .text.entry, "ax"
  .code32
  .globl pvh_entry
pvh_entry:
  cld
  lgdt gdt_pointer
  movl $SEL_KERNEL_DATA, %eax
  movw %ax, %ds
  movw %ax, %es
  movw %ax, %ss

  movl %cr4, %eax
  orl $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
  movl %eax, %cr4
  movl $pml4, %eax
  movl %eax, %cr3
  movl $MSR_EFER, %ecx
  rdmsr
  orl $EFER_LME, %eax
  wrmsr
  movl %cr0, %eax
  andl $~CR0_EM, %eax
  orl $(CR0_PG | CR0_MP | CR0_PE), %eax
  movl %eax, %cr0
  ljmp $SEL_KERNEL_CODE, $long_mode

  .code64
long_mode:
  xorl %eax, %eax
  movw %ax, %fs
  movw %ax, %gs
  leaq kernel_stack_top(%rip), %rsp
  movl %ebx, %edi /* struct hvm_start_info * */
  call kernel_main
1: jmp 1b /* kernel_main does not return */

  .data
gdt_pointer:
  .word GDT_ENTRIES * 8 - 1
  .quad gdt

/*
 * Supervisor-only data (paging.c clears the user bit on these pages): the GDT,
 * the TSS with its I/O bitmap, the IDT, the page tables and the kernel stack.
 */
  .section .kdata, "aw"
  .balign 4096
  .globl gdt
gdt:
  .quad 0
  .quad 0x00209a0000000000 /* 0x08 kernel code: present, DPL 0, 64-bit */
  .quad 0x00cf92000000ffff /* 0x10 kernel data */
  .quad 0x00cff2000000ffff /* 0x18 user data: DPL 3 */
  .quad 0x0020fa0000000000 /* 0x20 user code: DPL 3, 64-bit */
  .quad 0, 0               /* 0x28 TSS, written by cpu.c (its base is split across the descriptor) */

/* The 64-bit TSS: RSP0 for traps from user mode; every port allowed by the I/O bitmap. */
  .balign 16
  .globl tss
tss:
  .long 0
  .quad kernel_stack_top /* rsp0 */
  .fill 88, 1, 0
  .word TSS_SIZE         /* I/O bitmap offset */
  .fill IO_BITMAP_SIZE, 1, 0
  .byte 0xff

  .balign 4096
  .globl idt
idt:
  .fill 256 * 16, 1, 0

/*
 * An identity map of the first 4 GiB, user-accessible: 4 KiB pages for the
 * first 2 MiB (so that the kernel's pages can be made supervisor-only), 2 MiB
 * pages above. Devices' MMIO windows (below 4 GiB on both VMMs) are inside it.
 */
  .balign 4096
  .globl pml4
pml4:
  .quad pdpt + (PTE_P | PTE_W | PTE_U)
  .fill 511, 8, 0
pdpt:
  .quad pd + (PTE_P | PTE_W | PTE_U)
  .quad pd + 0x1000 + (PTE_P | PTE_W | PTE_U)
  .quad pd + 0x2000 + (PTE_P | PTE_W | PTE_U)
  .quad pd + 0x3000 + (PTE_P | PTE_W | PTE_U)
  .fill 508, 8, 0
/* Four page directories back to back, 2048 entries: the first 2 MiB through pt0, then 2 MiB pages. */
pd:
  .quad pt0 + (PTE_P | PTE_W | PTE_U)
  i = 1
  .rept 2047
  .quad (i << 21) | (PTE_P | PTE_W | PTE_U | PTE_PS)
  i = i + 1
  .endr
  .globl pt0
pt0:
  i = 0
  .rept 512
  .quad (i << 12) | (PTE_P | PTE_W | PTE_U)
  i = i + 1
  .endr

  .balign 16
kernel_stack:
  .fill KERNEL_STACK_SIZE, 1, 0
  .globl kernel_stack_top
kernel_stack_top:
