/**
 * Constants of virtio 1.2 shared by the transport and the devices, spelled as
 * in `<linux/virtio_ids.h>`, `<linux/virtio_config.h>` and `<linux/virtio_mmio.h>`.
 * Ring feature bits (VIRTIO_RING_F_EVENT_IDX, VIRTIO_RING_F_INDIRECT_DESC) come
 * from `@tsvmm/virtio-queue`.
 */

/** Device type: network card. */
export const VIRTIO_ID_NET = 1;
/** Device type: block device. */
export const VIRTIO_ID_BLOCK = 2;
/** Device type: entropy source. */
export const VIRTIO_ID_RNG = 4;

/** Feature bit: the device complies with virtio 1.x (required by this transport). */
export const VIRTIO_F_VERSION_1 = 32;
/** Feature bit: the device is behind an IOMMU (never offered here). */
export const VIRTIO_F_ACCESS_PLATFORM = 33;

/** Status bit: the guest found the device. */
export const VIRTIO_CONFIG_S_ACKNOWLEDGE = 1;
/** Status bit: the guest knows how to drive the device. */
export const VIRTIO_CONFIG_S_DRIVER = 2;
/** Status bit: the driver is ready; the device may be used. */
export const VIRTIO_CONFIG_S_DRIVER_OK = 4;
/** Status bit: feature negotiation is complete. */
export const VIRTIO_CONFIG_S_FEATURES_OK = 8;
/** Status bit (device-set): the device hit an error and needs a reset. */
export const VIRTIO_CONFIG_S_NEEDS_RESET = 0x40;
/** Status bit: the driver gave up on the device. */
export const VIRTIO_CONFIG_S_FAILED = 0x80;

/** InterruptStatus bit: a used buffer notification. */
export const VIRTIO_MMIO_INT_VRING = 1;
/** InterruptStatus bit: a configuration change notification. */
export const VIRTIO_MMIO_INT_CONFIG = 2;

/** `MagicValue`: "virt" in little-endian. */
export const VIRTIO_MMIO_MAGIC_VALUE = 0x74726976;
/** The register layout version this transport implements (virtio 1.x, not legacy). */
export const VIRTIO_MMIO_VERSION = 2;
/** `VendorID` of tsvmm's devices: "TSVM" in little-endian. */
export const TSVMM_VENDOR_ID = 0x4d565354;
