/**
 * Constants of the virtio 1.2 virtqueue layouts (§2.7, §2.8), spelled as in
 * `<linux/virtio_ring.h>` and `<linux/virtio_config.h>`.
 */

/** The largest queue size a split or packed virtqueue may have. */
export const VIRTQ_MAX_SIZE = 32768;

/** Descriptor flag: the buffer continues in the descriptor named by `next` (split) or the next slot (packed). */
export const VRING_DESC_F_NEXT = 1;
/** Descriptor flag: the buffer is device-writable (otherwise device-readable). */
export const VRING_DESC_F_WRITE = 2;
/** Descriptor flag: the buffer is a table of indirect descriptors. */
export const VRING_DESC_F_INDIRECT = 4;
/** Packed descriptor flag bit: the driver's availability marker. */
export const VRING_PACKED_DESC_F_AVAIL = 1 << 7;
/** Packed descriptor flag bit: the device's used marker. */
export const VRING_PACKED_DESC_F_USED = 1 << 15;

/** Split available ring flag: the driver asks not to be interrupted. */
export const VRING_AVAIL_F_NO_INTERRUPT = 1;
/** Split used ring flag: the device asks not to be notified. */
export const VRING_USED_F_NO_NOTIFY = 1;

/** Packed event suppression flags: notify on every event. */
export const VRING_PACKED_EVENT_FLAG_ENABLE = 0;
/** Packed event suppression flags: never notify. */
export const VRING_PACKED_EVENT_FLAG_DISABLE = 1;
/** Packed event suppression flags: notify at the descriptor named by `off_wrap` (needs EVENT_IDX). */
export const VRING_PACKED_EVENT_FLAG_DESC = 2;
/** Bit of `off_wrap` that holds the wrap counter. */
export const VRING_PACKED_EVENT_F_WRAP_CTR = 15;

/** Feature bit: indirect descriptors. */
export const VIRTIO_RING_F_INDIRECT_DESC = 28;
/** Feature bit: `used_event`/`avail_event` notification suppression. */
export const VIRTIO_RING_F_EVENT_IDX = 29;
/** Feature bit: the packed virtqueue layout. */
export const VIRTIO_F_RING_PACKED = 34;

/** Size of one descriptor, split or packed, and of one indirect table entry. */
export const VIRTQ_DESC_SIZE = 16;
/** Size of one split used ring element (`id` u32, `len` u32). */
export const VIRTQ_USED_ELEM_SIZE = 8;
