/*
 * The test guest's fixed layout, shared by the assembly entry and the C code:
 * GDT selectors, the TSS, and the page-table flags.
 */
#ifndef TG_LAYOUT_H
#define TG_LAYOUT_H

/* GDT selectors. The user ones carry RPL 3. */
#define SEL_KERNEL_CODE 0x08
#define SEL_KERNEL_DATA 0x10
#define SEL_USER_DATA (0x18 | 3)
#define SEL_USER_CODE (0x20 | 3)
#define SEL_TSS 0x28
#define GDT_ENTRIES 7 /* null, 4 segments, the 16-byte TSS descriptor */

/* The 64-bit TSS is 0x68 bytes; its I/O permission bitmap follows (65536 ports, then 0xff). */
#define TSS_SIZE 0x68
#define IO_BITMAP_SIZE 0x2000
#define TSS_LIMIT (TSS_SIZE + IO_BITMAP_SIZE)

#define PTE_P 0x1
#define PTE_W 0x2
#define PTE_U 0x4
#define PTE_PS 0x80

#define KERNEL_STACK_SIZE 0x4000
#define USER_STACK_SIZE 0x10000

#endif
