/**
 * The layout of `struct kvm_run`, the page a vCPU shares with user space
 * (mmap of the vCPU fd), and of the exit members of its union that this
 * package reads. The union members overlap at offset 32: this layout gives
 * offsets for in-place access; it is never encoded as a whole.
 */
import { array, bytes, pad, struct, u8, u16, u32, u64 } from '../layout.js';

/** `struct kvm_debug_exit_arch` (x86): the exception and debug registers of a KVM_EXIT_DEBUG. */
export const kvm_debug_exit_arch = struct('kvm_debug_exit_arch', 32, {
  exception: [0, u32],
  pad: [4, pad(4)],
  pc: [8, u64],
  dr6: [16, u64],
  dr7: [24, u64],
});

/** Offset of the exit union in `struct kvm_run` (x86). */
const EXIT = 32;

/** `struct kvm_run`: the vCPU's shared page. */
export const kvm_run = struct('kvm_run', 2352, {
  request_interrupt_window: [0, u8],
  immediate_exit: [1, u8],
  padding1: [2, pad(6)],
  exit_reason: [8, u32],
  ready_for_interrupt_injection: [12, u8],
  if_flag: [13, u8],
  flags: [14, u16],
  cr8: [16, u64],
  apic_base: [24, u64],
  // KVM_EXIT_UNKNOWN
  hw: [EXIT, struct(undefined, 8, { hardware_exit_reason: [0, u64] })],
  // KVM_EXIT_FAIL_ENTRY
  fail_entry: [EXIT, struct(undefined, 16, { hardware_entry_failure_reason: [0, u64], cpu: [8, u32] })],
  // KVM_EXIT_EXCEPTION
  ex: [EXIT, struct(undefined, 8, { exception: [0, u32], error_code: [4, u32] })],
  // KVM_EXIT_IO
  io: [
    EXIT,
    struct(undefined, 16, {
      direction: [0, u8],
      size: [1, u8],
      port: [2, u16],
      count: [4, u32],
      data_offset: [8, u64],
    }),
  ],
  // KVM_EXIT_DEBUG
  debug: [EXIT, struct(undefined, 32, { arch: [0, kvm_debug_exit_arch] })],
  // KVM_EXIT_MMIO
  mmio: [
    EXIT,
    struct(undefined, 24, { phys_addr: [0, u64], data: [8, bytes(8)], len: [16, u32], is_write: [20, u8] }),
  ],
  // KVM_EXIT_INTERNAL_ERROR
  internal: [
    EXIT,
    struct(undefined, 136, { suberror: [0, u32], ndata: [4, u32], data: [8, array(u64, 16)] }),
  ],
  // KVM_EXIT_SYSTEM_EVENT
  system_event: [
    EXIT,
    struct(undefined, 136, { type: [0, u32], ndata: [4, u32], data: [8, array(u64, 16)] }),
  ],
  kvm_valid_regs: [288, u64],
  kvm_dirty_regs: [296, u64],
  s: [304, pad(2048)],
});
