/**
 * The KVM ioctl request numbers this package issues, encoded like
 * `<linux/kvm.h>` does (`_IO`/`_IOR`/`_IOW`/`_IOWR` on type `KVMIO`), with
 * argument sizes taken from the layouts, so a layout and its ioctl cannot
 * disagree. A test compares every number with the header's.
 */
import { io, ior, iow, iowr } from '@tsvmm/vmm-sys-util';
import {
  kvm_cpuid2,
  kvm_debugregs,
  kvm_fpu,
  kvm_guest_debug,
  kvm_interrupt,
  kvm_lapic_state,
  kvm_mp_state,
  kvm_msr_list,
  kvm_msrs,
  kvm_regs,
  kvm_sregs,
  kvm_translation,
  kvm_vcpu_events,
  kvm_xcrs,
  kvm_xsave,
} from './structs/vcpu.js';
import {
  kvm_clock_data,
  kvm_create_device,
  kvm_device_attr,
  kvm_dirty_log,
  kvm_enable_cap,
  kvm_ioeventfd,
  kvm_irq_level,
  kvm_irq_routing,
  kvm_irqchip,
  kvm_irqfd,
  kvm_msi,
  kvm_pit_config,
  kvm_pit_state2,
  kvm_userspace_memory_region,
} from './structs/vm.js';

/** The ioctl type of every KVM request. */
export const KVMIO = 0xae;

/** KVM ioctl request numbers by their C name. */
export const ioctls = {
  // /dev/kvm
  KVM_GET_API_VERSION: io(KVMIO, 0x00),
  KVM_CREATE_VM: io(KVMIO, 0x01),
  KVM_GET_MSR_INDEX_LIST: iowr(KVMIO, 0x02, kvm_msr_list.size),
  KVM_CHECK_EXTENSION: io(KVMIO, 0x03),
  KVM_GET_VCPU_MMAP_SIZE: io(KVMIO, 0x04),
  KVM_GET_SUPPORTED_CPUID: iowr(KVMIO, 0x05, kvm_cpuid2.size),
  KVM_GET_EMULATED_CPUID: iowr(KVMIO, 0x09, kvm_cpuid2.size),
  KVM_GET_MSR_FEATURE_INDEX_LIST: iowr(KVMIO, 0x0a, kvm_msr_list.size),
  // VM
  KVM_CREATE_VCPU: io(KVMIO, 0x41),
  KVM_GET_DIRTY_LOG: iow(KVMIO, 0x42, kvm_dirty_log.size),
  KVM_SET_USER_MEMORY_REGION: iow(KVMIO, 0x46, kvm_userspace_memory_region.size),
  KVM_SET_TSS_ADDR: io(KVMIO, 0x47),
  KVM_SET_IDENTITY_MAP_ADDR: iow(KVMIO, 0x48, 8),
  KVM_CREATE_IRQCHIP: io(KVMIO, 0x60),
  KVM_IRQ_LINE: iow(KVMIO, 0x61, kvm_irq_level.size),
  KVM_GET_IRQCHIP: iowr(KVMIO, 0x62, kvm_irqchip.size),
  KVM_SET_IRQCHIP: ior(KVMIO, 0x63, kvm_irqchip.size),
  KVM_SET_GSI_ROUTING: iow(KVMIO, 0x6a, kvm_irq_routing.size),
  KVM_IRQFD: iow(KVMIO, 0x76, kvm_irqfd.size),
  KVM_CREATE_PIT2: iow(KVMIO, 0x77, kvm_pit_config.size),
  KVM_IOEVENTFD: iow(KVMIO, 0x79, kvm_ioeventfd.size),
  KVM_SET_CLOCK: iow(KVMIO, 0x7b, kvm_clock_data.size),
  KVM_GET_CLOCK: ior(KVMIO, 0x7c, kvm_clock_data.size),
  KVM_GET_PIT2: ior(KVMIO, 0x9f, kvm_pit_state2.size),
  KVM_SET_PIT2: iow(KVMIO, 0xa0, kvm_pit_state2.size),
  KVM_SIGNAL_MSI: iow(KVMIO, 0xa5, kvm_msi.size),
  KVM_ENABLE_CAP: iow(KVMIO, 0xa3, kvm_enable_cap.size),
  KVM_CREATE_DEVICE: iowr(KVMIO, 0xe0, kvm_create_device.size),
  // device
  KVM_SET_DEVICE_ATTR: iow(KVMIO, 0xe1, kvm_device_attr.size),
  KVM_GET_DEVICE_ATTR: iow(KVMIO, 0xe2, kvm_device_attr.size),
  KVM_HAS_DEVICE_ATTR: iow(KVMIO, 0xe3, kvm_device_attr.size),
  // vCPU
  KVM_RUN: io(KVMIO, 0x80),
  KVM_GET_REGS: ior(KVMIO, 0x81, kvm_regs.size),
  KVM_SET_REGS: iow(KVMIO, 0x82, kvm_regs.size),
  KVM_GET_SREGS: ior(KVMIO, 0x83, kvm_sregs.size),
  KVM_SET_SREGS: iow(KVMIO, 0x84, kvm_sregs.size),
  KVM_TRANSLATE: iowr(KVMIO, 0x85, kvm_translation.size),
  KVM_INTERRUPT: iow(KVMIO, 0x86, kvm_interrupt.size),
  KVM_GET_MSRS: iowr(KVMIO, 0x88, kvm_msrs.size),
  KVM_SET_MSRS: iow(KVMIO, 0x89, kvm_msrs.size),
  KVM_GET_FPU: ior(KVMIO, 0x8c, kvm_fpu.size),
  KVM_SET_FPU: iow(KVMIO, 0x8d, kvm_fpu.size),
  KVM_GET_LAPIC: ior(KVMIO, 0x8e, kvm_lapic_state.size),
  KVM_SET_LAPIC: iow(KVMIO, 0x8f, kvm_lapic_state.size),
  KVM_SET_CPUID2: iow(KVMIO, 0x90, kvm_cpuid2.size),
  KVM_GET_CPUID2: iowr(KVMIO, 0x91, kvm_cpuid2.size),
  KVM_GET_MP_STATE: ior(KVMIO, 0x98, kvm_mp_state.size),
  KVM_SET_MP_STATE: iow(KVMIO, 0x99, kvm_mp_state.size),
  KVM_NMI: io(KVMIO, 0x9a),
  KVM_SET_GUEST_DEBUG: iow(KVMIO, 0x9b, kvm_guest_debug.size),
  KVM_GET_VCPU_EVENTS: ior(KVMIO, 0x9f, kvm_vcpu_events.size),
  KVM_SET_VCPU_EVENTS: iow(KVMIO, 0xa0, kvm_vcpu_events.size),
  KVM_GET_DEBUGREGS: ior(KVMIO, 0xa1, kvm_debugregs.size),
  KVM_SET_DEBUGREGS: iow(KVMIO, 0xa2, kvm_debugregs.size),
  KVM_SET_TSC_KHZ: io(KVMIO, 0xa2),
  KVM_GET_TSC_KHZ: io(KVMIO, 0xa3),
  KVM_GET_XSAVE: ior(KVMIO, 0xa4, kvm_xsave.size),
  KVM_SET_XSAVE: iow(KVMIO, 0xa5, kvm_xsave.size),
  KVM_GET_XCRS: ior(KVMIO, 0xa6, kvm_xcrs.size),
  KVM_SET_XCRS: iow(KVMIO, 0xa7, kvm_xcrs.size),
} as const;

/** The C name of a KVM ioctl request. */
export type IoctlName = keyof typeof ioctls;
