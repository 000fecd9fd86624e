/*
 * The kernel-mode part of the test guest (CPL0). It only prepares the CPU and
 * drops to user mode; on a software KVM every instruction here is
 * interpreted, so nothing here loops over more than a few dozen items.
 */
#ifndef TG_KERNEL_H
#define TG_KERNEL_H
#include "common.h"
#include "pvh.h"

/* Registers trap_common (traps.S) saved, then what the CPU pushed. */
struct trap_frame {
  u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
  u64 vector, error;
  u64 rip, cs, rflags, rsp, ss;
};

/* Entered from entry.S in 64-bit mode with the PVH start info. Never returns. */
void kernel_main(const struct hvm_start_info *start_info);
/* Called by traps.S for an exception: reports it and ends the VM. */
void trap(const struct trap_frame *frame);

/* Sets up paging protections (paging.c). */
void paging_init(void);
/* Enables kvmclock when the hypervisor offers it (clock.c); returns whether it did. */
bool kvmclock_init(void);

/* The user-mode program (main.c), entered with an iretq. */
void user_main(const struct hvm_start_info *start_info);

#endif
