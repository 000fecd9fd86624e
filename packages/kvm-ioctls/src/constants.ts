/**
 * Constants of the KVM API in their C spelling (`<linux/kvm.h>`,
 * `<asm/kvm.h>`). A test compares every one with the header's value.
 */

/** The only KVM API version there is (KVM_GET_API_VERSION). */
export const KVM_API_VERSION = 12;

// kvm_run.exit_reason
export const KVM_EXIT_UNKNOWN = 0;
export const KVM_EXIT_EXCEPTION = 1;
export const KVM_EXIT_IO = 2;
export const KVM_EXIT_HYPERCALL = 3;
export const KVM_EXIT_DEBUG = 4;
export const KVM_EXIT_HLT = 5;
export const KVM_EXIT_MMIO = 6;
export const KVM_EXIT_IRQ_WINDOW_OPEN = 7;
export const KVM_EXIT_SHUTDOWN = 8;
export const KVM_EXIT_FAIL_ENTRY = 9;
export const KVM_EXIT_INTR = 10;
export const KVM_EXIT_SET_TPR = 11;
export const KVM_EXIT_TPR_ACCESS = 12;
export const KVM_EXIT_NMI = 16;
export const KVM_EXIT_INTERNAL_ERROR = 17;
export const KVM_EXIT_SYSTEM_EVENT = 24;
export const KVM_EXIT_IOAPIC_EOI = 26;
export const KVM_EXIT_HYPERV = 27;
export const KVM_EXIT_X86_RDMSR = 29;
export const KVM_EXIT_X86_WRMSR = 30;
export const KVM_EXIT_DIRTY_RING_FULL = 31;
export const KVM_EXIT_X86_BUS_LOCK = 33;
export const KVM_EXIT_XEN = 34;
export const KVM_EXIT_NOTIFY = 37;

// kvm_run.io.direction
export const KVM_EXIT_IO_IN = 0;
export const KVM_EXIT_IO_OUT = 1;

// kvm_run.internal.suberror
export const KVM_INTERNAL_ERROR_EMULATION = 1;
export const KVM_INTERNAL_ERROR_SIMUL_EX = 2;
export const KVM_INTERNAL_ERROR_DELIVERY_EV = 3;
export const KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON = 4;

// kvm_run.system_event.type
export const KVM_SYSTEM_EVENT_SHUTDOWN = 1;
export const KVM_SYSTEM_EVENT_RESET = 2;
export const KVM_SYSTEM_EVENT_CRASH = 3;
export const KVM_SYSTEM_EVENT_WAKEUP = 4;
export const KVM_SYSTEM_EVENT_SUSPEND = 5;

// kvm_userspace_memory_region.flags
export const KVM_MEM_LOG_DIRTY_PAGES = 1;
export const KVM_MEM_READONLY = 2;

// kvm_irqchip.chip_id
export const KVM_IRQCHIP_PIC_MASTER = 0;
export const KVM_IRQCHIP_PIC_SLAVE = 1;
export const KVM_IRQCHIP_IOAPIC = 2;
export const KVM_IOAPIC_NUM_PINS = 24;

// kvm_pit_config.flags, kvm_pit_state2.flags
export const KVM_PIT_SPEAKER_DUMMY = 1;
export const KVM_PIT_FLAGS_HPET_LEGACY = 1;

// kvm_clock_data.flags
export const KVM_CLOCK_TSC_STABLE = 2;
export const KVM_CLOCK_REALTIME = 4;
export const KVM_CLOCK_HOST_TSC = 8;

// kvm_irqfd.flags
export const KVM_IRQFD_FLAG_DEASSIGN = 1;
export const KVM_IRQFD_FLAG_RESAMPLE = 2;

// kvm_ioeventfd.flags
export const KVM_IOEVENTFD_FLAG_DATAMATCH = 1;
export const KVM_IOEVENTFD_FLAG_PIO = 2;
export const KVM_IOEVENTFD_FLAG_DEASSIGN = 4;

// kvm_msi.flags
export const KVM_MSI_VALID_DEVID = 1;

// kvm_irq_routing_entry.type
export const KVM_IRQ_ROUTING_IRQCHIP = 1;
export const KVM_IRQ_ROUTING_MSI = 2;

// kvm_mp_state.mp_state (those that exist on x86)
export const KVM_MP_STATE_RUNNABLE = 0;
export const KVM_MP_STATE_UNINITIALIZED = 1;
export const KVM_MP_STATE_INIT_RECEIVED = 2;
export const KVM_MP_STATE_HALTED = 3;
export const KVM_MP_STATE_SIPI_RECEIVED = 4;
export const KVM_MP_STATE_AP_RESET_HOLD = 9;

// kvm_cpuid_entry2.flags
export const KVM_CPUID_FLAG_SIGNIFCANT_INDEX = 1;

// kvm_vcpu_events.flags
export const KVM_VCPUEVENT_VALID_NMI_PENDING = 1;
export const KVM_VCPUEVENT_VALID_SIPI_VECTOR = 2;
export const KVM_VCPUEVENT_VALID_SHADOW = 4;
export const KVM_VCPUEVENT_VALID_SMM = 8;
export const KVM_VCPUEVENT_VALID_PAYLOAD = 16;
export const KVM_VCPUEVENT_VALID_TRIPLE_FAULT = 32;

// kvm_guest_debug.control
export const KVM_GUESTDBG_ENABLE = 0x1;
export const KVM_GUESTDBG_SINGLESTEP = 0x2;
export const KVM_GUESTDBG_USE_SW_BP = 0x10000;
export const KVM_GUESTDBG_USE_HW_BP = 0x20000;
export const KVM_GUESTDBG_INJECT_DB = 0x40000;
export const KVM_GUESTDBG_INJECT_BP = 0x80000;

// kvm_create_device
export const KVM_CREATE_DEVICE_TEST = 1;
export const KVM_DEV_TYPE_VFIO = 4;
export const KVM_DEV_VFIO_GROUP = 1;
export const KVM_DEV_VFIO_GROUP_ADD = 1;
export const KVM_DEV_VFIO_GROUP_DEL = 2;

// mmap offsets (in pages) inside the vCPU fd
export const KVM_PIO_PAGE_OFFSET = 1;
export const KVM_COALESCED_MMIO_PAGE_OFFSET = 2;

// struct kvm_xcrs
export const KVM_MAX_XCRS = 16;
