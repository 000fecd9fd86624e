/**
 * Layouts of the structs the VM and device ioctls pass: memory slots,
 * interrupt controllers, the PIT, the clock, irqfds, ioeventfds, MSIs, GSI
 * routing, dirty logs, capabilities and device attributes.
 */
import {
  array,
  bytes,
  counted,
  i32,
  i64,
  type LayoutValue,
  pad,
  struct,
  u8,
  u16,
  u32,
  u64,
} from '../layout.js';

/** `struct kvm_userspace_memory_region`: a memory slot mapping guest physical memory to host memory. */
export const kvm_userspace_memory_region = struct('kvm_userspace_memory_region', 32, {
  slot: [0, u32],
  flags: [4, u32],
  guest_phys_addr: [8, u64],
  memory_size: [16, u64],
  userspace_addr: [24, u64],
});
/** The value of `struct kvm_userspace_memory_region`. */
export type KvmUserspaceMemoryRegion = LayoutValue<typeof kvm_userspace_memory_region>;

/** `struct kvm_irq_level`: KVM_IRQ_LINE's GSI and level. */
export const kvm_irq_level = struct('kvm_irq_level', 8, {
  irq: [0, u32],
  level: [4, u32],
});
/** The value of `struct kvm_irq_level`. */
export type KvmIrqLevel = LayoutValue<typeof kvm_irq_level>;

/** `struct kvm_pic_state`: one 8259A PIC. */
export const kvm_pic_state = struct('kvm_pic_state', 16, {
  last_irr: [0, u8],
  irr: [1, u8],
  imr: [2, u8],
  isr: [3, u8],
  priority_add: [4, u8],
  irq_base: [5, u8],
  read_reg_select: [6, u8],
  poll: [7, u8],
  special_mask: [8, u8],
  init_state: [9, u8],
  auto_eoi: [10, u8],
  rotate_on_auto_eoi: [11, u8],
  special_fully_nested_mode: [12, u8],
  init4: [13, u8],
  elcr: [14, u8],
  elcr_mask: [15, u8],
});
/** The value of `struct kvm_pic_state`. */
export type KvmPicState = LayoutValue<typeof kvm_pic_state>;

/**
 * `struct kvm_ioapic_state`: the I/O APIC. Each redirection-table entry is
 * the raw 64-bit register (vector in bits 0-7, mask in bit 16, destination in
 * bits 56-63), as the guest programs it.
 */
export const kvm_ioapic_state = struct('kvm_ioapic_state', 216, {
  base_address: [0, u64],
  ioregsel: [8, u32],
  id: [12, u32],
  irr: [16, u32],
  pad: [20, pad(4)],
  redirtbl: [24, array(u64, 24)],
});
/** The value of `struct kvm_ioapic_state`. */
export type KvmIoapicState = LayoutValue<typeof kvm_ioapic_state>;

/** `struct kvm_irqchip`: one in-kernel interrupt controller's state; `chip` holds a PIC or the IOAPIC. */
export const kvm_irqchip = struct('kvm_irqchip', 520, {
  chip_id: [0, u32],
  pad: [4, pad(4)],
  chip: [8, bytes(512)],
});
/** The value of `struct kvm_irqchip`. */
export type KvmIrqchip = LayoutValue<typeof kvm_irqchip>;

/** `struct kvm_pit_channel_state`: one 8254 PIT channel. */
export const kvm_pit_channel_state = struct('kvm_pit_channel_state', 24, {
  count: [0, u32],
  latched_count: [4, u16],
  count_latched: [6, u8],
  status_latched: [7, u8],
  status: [8, u8],
  read_state: [9, u8],
  write_state: [10, u8],
  write_latch: [11, u8],
  rw_mode: [12, u8],
  mode: [13, u8],
  bcd: [14, u8],
  gate: [15, u8],
  count_load_time: [16, i64],
});
/** The value of `struct kvm_pit_channel_state`. */
export type KvmPitChannelState = LayoutValue<typeof kvm_pit_channel_state>;

/** `struct kvm_pit_state2`: the in-kernel PIT's three channels and flags. */
export const kvm_pit_state2 = struct('kvm_pit_state2', 112, {
  channels: [0, array(kvm_pit_channel_state, 3)],
  flags: [72, u32],
  reserved: [76, pad(36)],
});
/** The value of `struct kvm_pit_state2`. */
export type KvmPitState2 = LayoutValue<typeof kvm_pit_state2>;

/** `struct kvm_pit_config`: KVM_CREATE_PIT2's flags. */
export const kvm_pit_config = struct('kvm_pit_config', 64, {
  flags: [0, u32],
  pad: [4, pad(60)],
});
/** The value of `struct kvm_pit_config`. */
export type KvmPitConfig = LayoutValue<typeof kvm_pit_config>;

/** `struct kvm_clock_data`: the VM's kvmclock value (ns) and, with flags, the host's realtime and TSC. */
export const kvm_clock_data = struct('kvm_clock_data', 48, {
  clock: [0, u64],
  flags: [8, u32],
  pad0: [12, pad(4)],
  realtime: [16, u64],
  host_tsc: [24, u64],
  pad: [32, pad(16)],
});
/** The value of `struct kvm_clock_data`. */
export type KvmClockData = LayoutValue<typeof kvm_clock_data>;

/** `struct kvm_irqfd`: an eventfd that raises a GSI, optionally with a resample eventfd. */
export const kvm_irqfd = struct('kvm_irqfd', 32, {
  fd: [0, u32],
  gsi: [4, u32],
  flags: [8, u32],
  resamplefd: [12, u32],
  pad: [16, pad(16)],
});
/** The value of `struct kvm_irqfd`. */
export type KvmIrqfd = LayoutValue<typeof kvm_irqfd>;

/** `struct kvm_ioeventfd`: an eventfd signalled by a guest write to a port or MMIO address. */
export const kvm_ioeventfd = struct('kvm_ioeventfd', 64, {
  datamatch: [0, u64],
  addr: [8, u64],
  len: [16, u32],
  fd: [20, i32],
  flags: [24, u32],
  pad: [28, pad(36)],
});
/** The value of `struct kvm_ioeventfd`. */
export type KvmIoeventfd = LayoutValue<typeof kvm_ioeventfd>;

/** `struct kvm_msi`: a message-signalled interrupt for KVM_SIGNAL_MSI. */
export const kvm_msi = struct('kvm_msi', 32, {
  address_lo: [0, u32],
  address_hi: [4, u32],
  data: [8, u32],
  flags: [12, u32],
  devid: [16, u32],
  pad: [20, pad(12)],
});
/** The value of `struct kvm_msi`. */
export type KvmMsi = LayoutValue<typeof kvm_msi>;

/** `struct kvm_irq_routing_irqchip`: a GSI routed to an irqchip pin. */
export const kvm_irq_routing_irqchip = struct('kvm_irq_routing_irqchip', 8, {
  irqchip: [0, u32],
  pin: [4, u32],
});
/** The value of `struct kvm_irq_routing_irqchip`. */
export type KvmIrqRoutingIrqchip = LayoutValue<typeof kvm_irq_routing_irqchip>;

/** `struct kvm_irq_routing_msi`: a GSI routed to an MSI message. */
export const kvm_irq_routing_msi = struct('kvm_irq_routing_msi', 16, {
  address_lo: [0, u32],
  address_hi: [4, u32],
  data: [8, u32],
  devid: [12, u32],
});
/** The value of `struct kvm_irq_routing_msi`. */
export type KvmIrqRoutingMsi = LayoutValue<typeof kvm_irq_routing_msi>;

/** `struct kvm_irq_routing_entry`: one GSI route; `u` holds the type's member (irqchip or MSI) as raw bytes. */
export const kvm_irq_routing_entry = struct('kvm_irq_routing_entry', 48, {
  gsi: [0, u32],
  type: [4, u32],
  flags: [8, u32],
  pad: [12, pad(4)],
  u: [16, bytes(32)],
});
/** The value of `struct kvm_irq_routing_entry`. */
export type KvmIrqRoutingEntry = LayoutValue<typeof kvm_irq_routing_entry>;

/** `struct kvm_irq_routing`: the whole GSI routing table for KVM_SET_GSI_ROUTING. */
export const kvm_irq_routing = struct('kvm_irq_routing', 8, {
  nr: [0, u32],
  flags: [4, u32],
  entries: [8, counted(kvm_irq_routing_entry, 'nr')],
});
/** The value of `struct kvm_irq_routing`. */
export type KvmIrqRouting = LayoutValue<typeof kvm_irq_routing>;

/** `struct kvm_dirty_log`: a slot number and the address of a bitmap KVM_GET_DIRTY_LOG fills. */
export const kvm_dirty_log = struct('kvm_dirty_log', 16, {
  slot: [0, u32],
  padding1: [4, pad(4)],
  dirty_bitmap: [8, u64],
});
/** The value of `struct kvm_dirty_log`. */
export type KvmDirtyLog = LayoutValue<typeof kvm_dirty_log>;

/** `struct kvm_enable_cap`: a capability to enable, with its flags and arguments. */
export const kvm_enable_cap = struct('kvm_enable_cap', 104, {
  cap: [0, u32],
  flags: [4, u32],
  args: [8, array(u64, 4)],
  pad: [40, pad(64)],
});
/** The value of `struct kvm_enable_cap`. */
export type KvmEnableCap = LayoutValue<typeof kvm_enable_cap>;

/** `struct kvm_create_device`: the device type to create; the kernel returns its fd in `fd`. */
export const kvm_create_device = struct('kvm_create_device', 12, {
  type: [0, u32],
  fd: [4, u32],
  flags: [8, u32],
});
/** The value of `struct kvm_create_device`. */
export type KvmCreateDevice = LayoutValue<typeof kvm_create_device>;

/** `struct kvm_device_attr`: a device attribute (group, attribute, address of its data). */
export const kvm_device_attr = struct('kvm_device_attr', 24, {
  flags: [0, u32],
  group: [4, u32],
  attr: [8, u64],
  addr: [16, u64],
});
/** The value of `struct kvm_device_attr`. */
export type KvmDeviceAttr = LayoutValue<typeof kvm_device_attr>;
