/*
 * Trap entry stubs. Each exception vector pushes its number (and a zero where
 * the CPU pushes no error code) and calls trap() in cpu.c with the frame;
 * trap() reports the fault and ends the VM, it never returns.
 */
#include "layout.h"

  .text
  .code64

.macro TRAP_NOERR vector
  .globl trap_\vector
trap_\vector:
  pushq $0
  pushq $\vector
  jmp trap_common
.endm

.macro TRAP_ERR vector
  .globl trap_\vector
trap_\vector:
  pushq $\vector
  jmp trap_common
.endm

TRAP_NOERR 0
TRAP_NOERR 1
TRAP_NOERR 2
TRAP_NOERR 3
TRAP_NOERR 4
TRAP_NOERR 5
TRAP_NOERR 6
TRAP_NOERR 7
TRAP_ERR 8
TRAP_NOERR 9
TRAP_ERR 10
TRAP_ERR 11
TRAP_ERR 12
TRAP_ERR 13
TRAP_ERR 14
TRAP_NOERR 15
TRAP_NOERR 16
TRAP_ERR 17
TRAP_NOERR 18
TRAP_NOERR 19
TRAP_NOERR 20
TRAP_ERR 21
TRAP_NOERR 22
TRAP_NOERR 23
TRAP_NOERR 24
TRAP_NOERR 25
TRAP_NOERR 26
TRAP_NOERR 27
TRAP_NOERR 28
TRAP_ERR 29
TRAP_ERR 30
TRAP_NOERR 31

/* The frame trap() sees: struct trap_frame in cpu.h, lowest address first. */
trap_common:
  pushq %rax
  pushq %rbx
  pushq %rcx
  pushq %rdx
  pushq %rsi
  pushq %rdi
  pushq %rbp
  movq %rsp, %rdi
  andq $-16, %rsp
  call trap
1: jmp 1b

/* The table cpu.c installs: the address of each exception stub. */
  .section .rodata
  .balign 8
  .globl trap_stubs
trap_stubs:
  .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
  .quad trap_\v
  .endr

/*
 * The last way to end (end.h): an IDT that cannot deliver anything, then an
 * exception. The CPU can deliver neither it nor the double fault that
 * follows: a triple fault, which every VMM sees as a shutdown.
 */
  .text
  .globl trap_end
trap_end:
  lidt empty_idt_pointer
  ud2

  .section .rodata
empty_idt_pointer:
  .word 0
  .quad 0
