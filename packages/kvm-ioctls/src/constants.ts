/**
 * Constants of the KVM API in their C spelling (`<linux/kvm.h>`,
 * `<asm/kvm.h>`). A test compares every one with the header's value.
 */

/** The only KVM API version there is (KVM_GET_API_VERSION). */
export const KVM_API_VERSION = 12;

/** Why KVM_RUN returned (`kvm_run.exit_reason`). */
export const KVM_EXIT_UNKNOWN = 0;
/** Why KVM_RUN returned (`kvm_run.exit_reason`). */
export const KVM_EXIT_EXCEPTION = 1;
/** Why KVM_RUN returned (`kvm_run.exit_reason`). */
export const KVM_EXIT_IO = 2;
/** Why KVM_RUN returned (`kvm_run.exit_reason`). */
export const KVM_EXIT_HYPERCALL = 3;
/** Why KVM_RUN returned (`kvm_run.exit_reason`). */
export const KVM_EXIT_DEBUG = 4;
/** Why KVM_RUN returned (`kvm_run.exit_reason`). */
export const KVM_EXIT_HLT = 5;
/** Why KVM_RUN returned (`kvm_run.exit_reason`). */
export const KVM_EXIT_MMIO = 6;
/** Why KVM_RUN returned (`kvm_run.exit_reason`). */
export const KVM_EXIT_IRQ_WINDOW_OPEN = 7;
/** Why KVM_RUN returned (`kvm_run.exit_reason`). */
export const KVM_EXIT_SHUTDOWN = 8;
/** Why KVM_RUN returned (`kvm_run.exit_reason`). */
export const KVM_EXIT_FAIL_ENTRY = 9;
/** Why KVM_RUN returned (`kvm_run.exit_reason`). */
export const KVM_EXIT_INTR = 10;
/** Why KVM_RUN returned (`kvm_run.exit_reason`). */
export const KVM_EXIT_SET_TPR = 11;
/** Why KVM_RUN returned (`kvm_run.exit_reason`). */
export const KVM_EXIT_TPR_ACCESS = 12;
/** Why KVM_RUN returned (`kvm_run.exit_reason`). */
export const KVM_EXIT_NMI = 16;
/** Why KVM_RUN returned (`kvm_run.exit_reason`). */
export const KVM_EXIT_INTERNAL_ERROR = 17;
/** Why KVM_RUN returned (`kvm_run.exit_reason`). */
export const KVM_EXIT_SYSTEM_EVENT = 24;
/** Why KVM_RUN returned (`kvm_run.exit_reason`). */
export const KVM_EXIT_IOAPIC_EOI = 26;
/** Why KVM_RUN returned (`kvm_run.exit_reason`). */
export const KVM_EXIT_HYPERV = 27;
/** Why KVM_RUN returned (`kvm_run.exit_reason`). */
export const KVM_EXIT_X86_RDMSR = 29;
/** Why KVM_RUN returned (`kvm_run.exit_reason`). */
export const KVM_EXIT_X86_WRMSR = 30;
/** Why KVM_RUN returned (`kvm_run.exit_reason`). */
export const KVM_EXIT_DIRTY_RING_FULL = 31;
/** Why KVM_RUN returned (`kvm_run.exit_reason`). */
export const KVM_EXIT_X86_BUS_LOCK = 33;
/** Why KVM_RUN returned (`kvm_run.exit_reason`). */
export const KVM_EXIT_XEN = 34;
/** Why KVM_RUN returned (`kvm_run.exit_reason`). */
export const KVM_EXIT_NOTIFY = 37;

/** Direction of a port-I/O exit (`kvm_run.io.direction`). */
export const KVM_EXIT_IO_IN = 0;
/** Direction of a port-I/O exit (`kvm_run.io.direction`). */
export const KVM_EXIT_IO_OUT = 1;

/** Kind of an internal error (`kvm_run.internal.suberror`). */
export const KVM_INTERNAL_ERROR_EMULATION = 1;
/** Kind of an internal error (`kvm_run.internal.suberror`). */
export const KVM_INTERNAL_ERROR_SIMUL_EX = 2;
/** Kind of an internal error (`kvm_run.internal.suberror`). */
export const KVM_INTERNAL_ERROR_DELIVERY_EV = 3;
/** Kind of an internal error (`kvm_run.internal.suberror`). */
export const KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON = 4;

/** Kind of a system event (`kvm_run.system_event.type`). */
export const KVM_SYSTEM_EVENT_SHUTDOWN = 1;
/** Kind of a system event (`kvm_run.system_event.type`). */
export const KVM_SYSTEM_EVENT_RESET = 2;
/** Kind of a system event (`kvm_run.system_event.type`). */
export const KVM_SYSTEM_EVENT_CRASH = 3;
/** Kind of a system event (`kvm_run.system_event.type`). */
export const KVM_SYSTEM_EVENT_WAKEUP = 4;
/** Kind of a system event (`kvm_run.system_event.type`). */
export const KVM_SYSTEM_EVENT_SUSPEND = 5;

/** Memory slot flag (`kvm_userspace_memory_region.flags`). */
export const KVM_MEM_LOG_DIRTY_PAGES = 1;
/** Memory slot flag (`kvm_userspace_memory_region.flags`). */
export const KVM_MEM_READONLY = 2;

/** In-kernel interrupt controller (`kvm_irqchip.chip_id`). */
export const KVM_IRQCHIP_PIC_MASTER = 0;
/** In-kernel interrupt controller (`kvm_irqchip.chip_id`). */
export const KVM_IRQCHIP_PIC_SLAVE = 1;
/** In-kernel interrupt controller (`kvm_irqchip.chip_id`). */
export const KVM_IRQCHIP_IOAPIC = 2;
/** In-kernel interrupt controller (`kvm_irqchip.chip_id`). */
export const KVM_IOAPIC_NUM_PINS = 24;

/** PIT flag (`kvm_pit_config.flags`, `kvm_pit_state2.flags`). */
export const KVM_PIT_SPEAKER_DUMMY = 1;
/** PIT flag (`kvm_pit_config.flags`, `kvm_pit_state2.flags`). */
export const KVM_PIT_FLAGS_HPET_LEGACY = 1;

/** kvmclock flag (`kvm_clock_data.flags`). */
export const KVM_CLOCK_TSC_STABLE = 2;
/** kvmclock flag (`kvm_clock_data.flags`). */
export const KVM_CLOCK_REALTIME = 4;
/** kvmclock flag (`kvm_clock_data.flags`). */
export const KVM_CLOCK_HOST_TSC = 8;

/** irqfd flag (`kvm_irqfd.flags`). */
export const KVM_IRQFD_FLAG_DEASSIGN = 1;
/** irqfd flag (`kvm_irqfd.flags`). */
export const KVM_IRQFD_FLAG_RESAMPLE = 2;

/** ioeventfd flag (`kvm_ioeventfd.flags`). */
export const KVM_IOEVENTFD_FLAG_DATAMATCH = 1;
/** ioeventfd flag (`kvm_ioeventfd.flags`). */
export const KVM_IOEVENTFD_FLAG_PIO = 2;
/** ioeventfd flag (`kvm_ioeventfd.flags`). */
export const KVM_IOEVENTFD_FLAG_DEASSIGN = 4;

/** MSI flag (`kvm_msi.flags`). */
export const KVM_MSI_VALID_DEVID = 1;

/** GSI route type (`kvm_irq_routing_entry.type`). */
export const KVM_IRQ_ROUTING_IRQCHIP = 1;
/** GSI route type (`kvm_irq_routing_entry.type`). */
export const KVM_IRQ_ROUTING_MSI = 2;

/** Multiprocessing state of a vCPU (`kvm_mp_state.mp_state`). */
export const KVM_MP_STATE_RUNNABLE = 0;
/** Multiprocessing state of a vCPU (`kvm_mp_state.mp_state`). */
export const KVM_MP_STATE_UNINITIALIZED = 1;
/** Multiprocessing state of a vCPU (`kvm_mp_state.mp_state`). */
export const KVM_MP_STATE_INIT_RECEIVED = 2;
/** Multiprocessing state of a vCPU (`kvm_mp_state.mp_state`). */
export const KVM_MP_STATE_HALTED = 3;
/** Multiprocessing state of a vCPU (`kvm_mp_state.mp_state`). */
export const KVM_MP_STATE_SIPI_RECEIVED = 4;
/** Multiprocessing state of a vCPU (`kvm_mp_state.mp_state`). */
export const KVM_MP_STATE_AP_RESET_HOLD = 9;

/** CPUID entry flag (`kvm_cpuid_entry2.flags`; the C name is misspelled). */
export const KVM_CPUID_FLAG_SIGNIFCANT_INDEX = 1;

/** Which optional parts of `kvm_vcpu_events` are valid (`kvm_vcpu_events.flags`). */
export const KVM_VCPUEVENT_VALID_NMI_PENDING = 1;
/** Which optional parts of `kvm_vcpu_events` are valid (`kvm_vcpu_events.flags`). */
export const KVM_VCPUEVENT_VALID_SIPI_VECTOR = 2;
/** Which optional parts of `kvm_vcpu_events` are valid (`kvm_vcpu_events.flags`). */
export const KVM_VCPUEVENT_VALID_SHADOW = 4;
/** Which optional parts of `kvm_vcpu_events` are valid (`kvm_vcpu_events.flags`). */
export const KVM_VCPUEVENT_VALID_SMM = 8;
/** Which optional parts of `kvm_vcpu_events` are valid (`kvm_vcpu_events.flags`). */
export const KVM_VCPUEVENT_VALID_PAYLOAD = 16;
/** Which optional parts of `kvm_vcpu_events` are valid (`kvm_vcpu_events.flags`). */
export const KVM_VCPUEVENT_VALID_TRIPLE_FAULT = 32;

/** Guest debugging control (`kvm_guest_debug.control`). */
export const KVM_GUESTDBG_ENABLE = 0x1;
/** Guest debugging control (`kvm_guest_debug.control`). */
export const KVM_GUESTDBG_SINGLESTEP = 0x2;
/** Guest debugging control (`kvm_guest_debug.control`). */
export const KVM_GUESTDBG_USE_SW_BP = 0x10000;
/** Guest debugging control (`kvm_guest_debug.control`). */
export const KVM_GUESTDBG_USE_HW_BP = 0x20000;
/** Guest debugging control (`kvm_guest_debug.control`). */
export const KVM_GUESTDBG_INJECT_DB = 0x40000;
/** Guest debugging control (`kvm_guest_debug.control`). */
export const KVM_GUESTDBG_INJECT_BP = 0x80000;

/** Device creation (`kvm_create_device`) and VFIO device attributes. */
export const KVM_CREATE_DEVICE_TEST = 1;
/** Device creation (`kvm_create_device`) and VFIO device attributes. */
export const KVM_DEV_TYPE_VFIO = 4;
/** Device creation (`kvm_create_device`) and VFIO device attributes. */
export const KVM_DEV_VFIO_GROUP = 1;
/** Device creation (`kvm_create_device`) and VFIO device attributes. */
export const KVM_DEV_VFIO_GROUP_ADD = 1;
/** Device creation (`kvm_create_device`) and VFIO device attributes. */
export const KVM_DEV_VFIO_GROUP_DEL = 2;

/** Page offset of an area inside the vCPU fd mapping. */
export const KVM_PIO_PAGE_OFFSET = 1;
/** Page offset of an area inside the vCPU fd mapping. */
export const KVM_COALESCED_MMIO_PAGE_OFFSET = 2;

/** Capacity of `kvm_xcrs.xcrs`. */
export const KVM_MAX_XCRS = 16;
