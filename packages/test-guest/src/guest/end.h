/*
 * Ending the VM once the results are out. In order, until one works:
 *
 * 1. port 0xf4 <- 0x10: QEMU's isa-debug-exit device (when the VMM has one)
 *    exits with status (0x10 << 1) | 1 = 33;
 * 2. port 0x64 <- 0xfe: the i8042's reset line (the reference VMM ends with
 *    its "reboot" status, 3; QEMU microvm has no i8042);
 * 3. a triple fault: user mode executes ud2 at tg_end_ud2, and the kernel,
 *    seeing that address, loads an empty IDT and faults again (every VMM
 *    sees a shutdown; QEMU -no-reboot exits 0, the reference VMM with 5).
 *
 * A crash ends by 3 directly, so a run that got through 1 or 2 ended on purpose.
 */
#ifndef TG_END_H
#define TG_END_H

#define DEBUG_EXIT_PORT 0xf4
#define DEBUG_EXIT_VALUE 0x10
#define I8042_COMMAND_PORT 0x64
#define I8042_PULSE_RESET 0xfe

void __attribute__((noreturn)) end_vm(void);
/* The address of the deliberate ud2 (the kernel's trap handler tells it from a crash). */
extern const char tg_end_ud2[];

#endif
