/**
 * The virtio-mmio register map, version 2 (virtio 1.2 §4.2.2), as byte
 * offsets in a device's MMIO window; names as in `<linux/virtio_mmio.h>`.
 */

/** Read: 0x74726976 ("virt"). */
export const VIRTIO_MMIO_MAGIC_VALUE_OFFSET = 0x000;
/** Read: 2. */
export const VIRTIO_MMIO_VERSION_OFFSET = 0x004;
/** Read: the device type. */
export const VIRTIO_MMIO_DEVICE_ID = 0x008;
/** Read: the vendor. */
export const VIRTIO_MMIO_VENDOR_ID = 0x00c;
/** Read: 32 bits of the offered features, selected by DeviceFeaturesSel. */
export const VIRTIO_MMIO_DEVICE_FEATURES = 0x010;
/** Write: which 32 bits DeviceFeatures shows. */
export const VIRTIO_MMIO_DEVICE_FEATURES_SEL = 0x014;
/** Write: 32 bits of the accepted features, selected by DriverFeaturesSel. */
export const VIRTIO_MMIO_DRIVER_FEATURES = 0x020;
/** Write: which 32 bits DriverFeatures sets. */
export const VIRTIO_MMIO_DRIVER_FEATURES_SEL = 0x024;
/** Write: the queue the queue registers refer to. */
export const VIRTIO_MMIO_QUEUE_SEL = 0x030;
/** Read: the selected queue's largest size (0: no such queue). */
export const VIRTIO_MMIO_QUEUE_NUM_MAX = 0x034;
/** Write: the selected queue's size. */
export const VIRTIO_MMIO_QUEUE_NUM = 0x038;
/** Read/write: the selected queue's ready bit. */
export const VIRTIO_MMIO_QUEUE_READY = 0x044;
/** Write: a queue index to notify (an ioeventfd per queue catches it). */
export const VIRTIO_MMIO_QUEUE_NOTIFY = 0x050;
/** Read: pending interrupt causes. */
export const VIRTIO_MMIO_INTERRUPT_STATUS = 0x060;
/** Write: interrupt causes handled. */
export const VIRTIO_MMIO_INTERRUPT_ACK = 0x064;
/** Read/write: the device status. */
export const VIRTIO_MMIO_STATUS = 0x070;
/** Write: descriptor area address, low 32 bits. */
export const VIRTIO_MMIO_QUEUE_DESC_LOW = 0x080;
/** Write: descriptor area address, high 32 bits. */
export const VIRTIO_MMIO_QUEUE_DESC_HIGH = 0x084;
/** Write: driver area (available ring) address, low 32 bits. */
export const VIRTIO_MMIO_QUEUE_AVAIL_LOW = 0x090;
/** Write: driver area address, high 32 bits. */
export const VIRTIO_MMIO_QUEUE_AVAIL_HIGH = 0x094;
/** Write: device area (used ring) address, low 32 bits. */
export const VIRTIO_MMIO_QUEUE_USED_LOW = 0x0a0;
/** Write: device area address, high 32 bits. */
export const VIRTIO_MMIO_QUEUE_USED_HIGH = 0x0a4;
/** Write: shared memory region selector. */
export const VIRTIO_MMIO_SHM_SEL = 0x0ac;
/** Read: selected shared memory region length, low 32 bits (all ones: no region). */
export const VIRTIO_MMIO_SHM_LEN_LOW = 0x0b0;
/** Read: selected shared memory region length, high 32 bits. */
export const VIRTIO_MMIO_SHM_LEN_HIGH = 0x0b4;
/** Read: selected shared memory region base, low 32 bits. */
export const VIRTIO_MMIO_SHM_BASE_LOW = 0x0b8;
/** Read: selected shared memory region base, high 32 bits. */
export const VIRTIO_MMIO_SHM_BASE_HIGH = 0x0bc;
/** Read/write: queue reset (only with VIRTIO_F_RING_RESET, never offered here). */
export const VIRTIO_MMIO_QUEUE_RESET = 0x0c0;
/** Read: changes whenever the device changes its configuration space. */
export const VIRTIO_MMIO_CONFIG_GENERATION = 0x0fc;
/** The device configuration space starts here. */
export const VIRTIO_MMIO_CONFIG = 0x100;
/** The size of a device's MMIO window as the kernel command line announces it (`4K@...`). */
export const VIRTIO_MMIO_WINDOW_SIZE = 0x1000;
