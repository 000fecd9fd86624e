/**
 * Layouts of the structs the vCPU ioctls pass (x86-64, `<asm/kvm.h>`): the
 * register files, CPUID, MSRs, LAPIC, FPU/XSAVE state, events and debug
 * registers. Member names are the C names.
 */
import { array, bytes, counted, type LayoutValue, pad, struct, u8, u16, u32, u64 } from '../layout.js';

/** `struct kvm_regs`: the general-purpose registers, RIP and RFLAGS. */
export const kvm_regs = struct('kvm_regs', 144, {
  rax: [0, u64],
  rbx: [8, u64],
  rcx: [16, u64],
  rdx: [24, u64],
  rsi: [32, u64],
  rdi: [40, u64],
  rsp: [48, u64],
  rbp: [56, u64],
  r8: [64, u64],
  r9: [72, u64],
  r10: [80, u64],
  r11: [88, u64],
  r12: [96, u64],
  r13: [104, u64],
  r14: [112, u64],
  r15: [120, u64],
  rip: [128, u64],
  rflags: [136, u64],
});
/** The value of `struct kvm_regs`. */
export type KvmRegs = LayoutValue<typeof kvm_regs>;

/** `struct kvm_segment`: a segment register with its hidden descriptor part. */
export const kvm_segment = struct('kvm_segment', 24, {
  base: [0, u64],
  limit: [8, u32],
  selector: [12, u16],
  type: [14, u8],
  present: [15, u8],
  dpl: [16, u8],
  db: [17, u8],
  s: [18, u8],
  l: [19, u8],
  g: [20, u8],
  avl: [21, u8],
  unusable: [22, u8],
  padding: [23, pad(1)],
});
/** The value of `struct kvm_segment`. */
export type KvmSegment = LayoutValue<typeof kvm_segment>;

/** `struct kvm_dtable`: a descriptor-table register (GDTR, IDTR). */
export const kvm_dtable = struct('kvm_dtable', 16, {
  base: [0, u64],
  limit: [8, u16],
  padding: [10, pad(6)],
});
/** The value of `struct kvm_dtable`. */
export type KvmDtable = LayoutValue<typeof kvm_dtable>;

/** `struct kvm_sregs`: segment, control and descriptor-table registers, EFER, APIC base, pending interrupts. */
export const kvm_sregs = struct('kvm_sregs', 312, {
  cs: [0, kvm_segment],
  ds: [24, kvm_segment],
  es: [48, kvm_segment],
  fs: [72, kvm_segment],
  gs: [96, kvm_segment],
  ss: [120, kvm_segment],
  tr: [144, kvm_segment],
  ldt: [168, kvm_segment],
  gdt: [192, kvm_dtable],
  idt: [208, kvm_dtable],
  cr0: [224, u64],
  cr2: [232, u64],
  cr3: [240, u64],
  cr4: [248, u64],
  cr8: [256, u64],
  efer: [264, u64],
  apic_base: [272, u64],
  interrupt_bitmap: [280, array(u64, 4)],
});
/** The value of `struct kvm_sregs`. */
export type KvmSregs = LayoutValue<typeof kvm_sregs>;

/** `struct kvm_fpu`: x87 and SSE state in FXSAVE format. */
export const kvm_fpu = struct('kvm_fpu', 416, {
  fpr: [0, array(bytes(16), 8)],
  fcw: [128, u16],
  fsw: [130, u16],
  ftwx: [132, u8],
  pad1: [133, pad(1)],
  last_opcode: [134, u16],
  last_ip: [136, u64],
  last_dp: [144, u64],
  xmm: [152, array(bytes(16), 16)],
  mxcsr: [408, u32],
  pad2: [412, pad(4)],
});
/** The value of `struct kvm_fpu`. */
export type KvmFpu = LayoutValue<typeof kvm_fpu>;

/** `struct kvm_lapic_state`: the local APIC's 1 KiB register page. */
export const kvm_lapic_state = struct('kvm_lapic_state', 1024, {
  regs: [0, bytes(1024)],
});
/** The value of `struct kvm_lapic_state`. */
export type KvmLapicState = LayoutValue<typeof kvm_lapic_state>;

/** `struct kvm_msr_entry`: one MSR index and value. */
export const kvm_msr_entry = struct('kvm_msr_entry', 16, {
  index: [0, u32],
  reserved: [4, pad(4)],
  data: [8, u64],
});
/** The value of `struct kvm_msr_entry`. */
export type KvmMsrEntry = LayoutValue<typeof kvm_msr_entry>;

/** `struct kvm_msrs`: a counted list of MSR entries (KVM_GET_MSRS, KVM_SET_MSRS). */
export const kvm_msrs = struct('kvm_msrs', 8, {
  nmsrs: [0, u32],
  pad: [4, pad(4)],
  entries: [8, counted(kvm_msr_entry, 'nmsrs')],
});
/** The value of `struct kvm_msrs`. */
export type KvmMsrs = LayoutValue<typeof kvm_msrs>;

/** `struct kvm_msr_list`: a counted list of MSR indices (KVM_GET_MSR_INDEX_LIST). */
export const kvm_msr_list = struct('kvm_msr_list', 4, {
  nmsrs: [0, u32],
  indices: [4, counted(u32, 'nmsrs')],
});
/** The value of `struct kvm_msr_list`. */
export type KvmMsrList = LayoutValue<typeof kvm_msr_list>;

/** `struct kvm_cpuid_entry2`: one CPUID leaf (and subleaf) with its four result registers. */
export const kvm_cpuid_entry2 = struct('kvm_cpuid_entry2', 40, {
  function: [0, u32],
  index: [4, u32],
  flags: [8, u32],
  eax: [12, u32],
  ebx: [16, u32],
  ecx: [20, u32],
  edx: [24, u32],
  padding: [28, pad(12)],
});
/** The value of `struct kvm_cpuid_entry2`. */
export type KvmCpuidEntry2 = LayoutValue<typeof kvm_cpuid_entry2>;

/** `struct kvm_cpuid2`: a counted list of CPUID entries. */
export const kvm_cpuid2 = struct('kvm_cpuid2', 8, {
  nent: [0, u32],
  padding: [4, pad(4)],
  entries: [8, counted(kvm_cpuid_entry2, 'nent')],
});
/** The value of `struct kvm_cpuid2`. */
export type KvmCpuid2 = LayoutValue<typeof kvm_cpuid2>;

/** `struct kvm_mp_state`: the vCPU's multiprocessing state (`KVM_MP_STATE_*`). */
export const kvm_mp_state = struct('kvm_mp_state', 4, {
  mp_state: [0, u32],
});
/** The value of `struct kvm_mp_state`. */
export type KvmMpState = LayoutValue<typeof kvm_mp_state>;

/** `struct kvm_xsave`: the XSAVE area (the legacy 4 KiB form of KVM_GET_XSAVE). */
export const kvm_xsave = struct('kvm_xsave', 4096, {
  region: [0, bytes(4096)],
});
/** The value of `struct kvm_xsave`. */
export type KvmXsave = LayoutValue<typeof kvm_xsave>;

/** `struct kvm_xcr`: one extended control register. */
export const kvm_xcr = struct('kvm_xcr', 16, {
  xcr: [0, u32],
  reserved: [4, pad(4)],
  value: [8, u64],
});
/** The value of `struct kvm_xcr`. */
export type KvmXcr = LayoutValue<typeof kvm_xcr>;

/** `struct kvm_xcrs`: up to 16 extended control registers (XCR0...). */
export const kvm_xcrs = struct('kvm_xcrs', 392, {
  nr_xcrs: [0, u32],
  flags: [4, u32],
  xcrs: [8, counted(kvm_xcr, 'nr_xcrs', 16)],
  padding: [264, pad(128)],
});
/** The value of `struct kvm_xcrs`. */
export type KvmXcrs = LayoutValue<typeof kvm_xcrs>;

/** `struct kvm_debugregs`: DR0-3, DR6, DR7. */
export const kvm_debugregs = struct('kvm_debugregs', 128, {
  db: [0, array(u64, 4)],
  dr6: [32, u64],
  dr7: [40, u64],
  flags: [48, u64],
  reserved: [56, pad(72)],
});
/** The value of `struct kvm_debugregs`. */
export type KvmDebugregs = LayoutValue<typeof kvm_debugregs>;

/** `struct kvm_vcpu_events`: pending and injected exceptions, interrupts, NMIs and SMIs. */
export const kvm_vcpu_events = struct('kvm_vcpu_events', 64, {
  exception: [
    0,
    struct(undefined, 8, {
      injected: [0, u8],
      nr: [1, u8],
      has_error_code: [2, u8],
      pending: [3, u8],
      error_code: [4, u32],
    }),
  ],
  interrupt: [8, struct(undefined, 4, { injected: [0, u8], nr: [1, u8], soft: [2, u8], shadow: [3, u8] })],
  nmi: [12, struct(undefined, 4, { injected: [0, u8], pending: [1, u8], masked: [2, u8], pad: [3, pad(1)] })],
  sipi_vector: [16, u32],
  flags: [20, u32],
  smi: [
    24,
    struct(undefined, 4, { smm: [0, u8], pending: [1, u8], smm_inside_nmi: [2, u8], latched_init: [3, u8] }),
  ],
  triple_fault: [28, struct(undefined, 1, { pending: [0, u8] })],
  reserved: [29, pad(26)],
  exception_has_payload: [55, u8],
  exception_payload: [56, u64],
});
/** The value of `struct kvm_vcpu_events`. */
export type KvmVcpuEvents = LayoutValue<typeof kvm_vcpu_events>;

/** `struct kvm_translation`: KVM_TRANSLATE's guest-virtual to guest-physical answer. */
export const kvm_translation = struct('kvm_translation', 24, {
  linear_address: [0, u64],
  physical_address: [8, u64],
  valid: [16, u8],
  writeable: [17, u8],
  usermode: [18, u8],
  pad: [19, pad(5)],
});
/** The value of `struct kvm_translation`. */
export type KvmTranslation = LayoutValue<typeof kvm_translation>;

/** `struct kvm_interrupt`: KVM_INTERRUPT's vector (only without an in-kernel irqchip). */
export const kvm_interrupt = struct('kvm_interrupt', 4, {
  irq: [0, u32],
});
/** The value of `struct kvm_interrupt`. */
export type KvmInterrupt = LayoutValue<typeof kvm_interrupt>;

/** `struct kvm_guest_debug_arch` (x86): DR0-7 for guest debugging. */
export const kvm_guest_debug_arch = struct('kvm_guest_debug_arch', 64, {
  debugreg: [0, array(u64, 8)],
});

/** `struct kvm_guest_debug`: KVM_SET_GUEST_DEBUG's control flags (`KVM_GUESTDBG_*`) and debug registers. */
export const kvm_guest_debug = struct('kvm_guest_debug', 72, {
  control: [0, u32],
  pad: [4, pad(4)],
  arch: [8, kvm_guest_debug_arch],
});
/** The value of `struct kvm_guest_debug`. */
export type KvmGuestDebug = LayoutValue<typeof kvm_guest_debug>;
