/*
 * A split virtqueue, driver side (virtio 1.2, 2.7). Buffers are added as
 * descriptor chains and published in the available ring at once; the driver
 * notifies when it chooses (virtq_kick), and collects completions by polling
 * the used ring from user mode, so no interrupt is ever needed.
 */
#ifndef TG_VIRTQUEUE_H
#define TG_VIRTQUEUE_H
#include "common.h"
#include "virtio-mmio.h"

#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1

struct virtq_desc {
  u64 addr;
  u32 len;
  u16 flags;
  u16 next;
};

struct virtq_avail {
  u16 flags;
  u16 idx;
  u16 ring[];
};

struct virtq_used_elem {
  u32 id;
  u32 len;
};

struct virtq_used {
  u16 flags;
  u16 idx;
  struct virtq_used_elem ring[];
};

/* One buffer of a chain: device-readable, or device-writable when `writable`. */
struct virtq_buf {
  u64 addr;
  u32 len;
  bool writable;
};

struct virtq {
  struct virtio_mmio_dev *dev;
  u32 index;
  u16 size;
  volatile struct virtq_desc *desc;
  volatile struct virtq_avail *avail;
  volatile struct virtq_used *used;
  /* Driver-private state: never read back from memory the device can write. */
  u16 free_head;
  u16 num_free;
  u16 avail_idx;
  u16 last_used;
  u16 *next;
  u16 *chain_len;
  void **tokens;
  /* Used ring entries that named no buffer in flight (a device bug), and the last such id. */
  u32 bad_used;
  u32 bad_used_id;
  /* Notifications sent and skipped because the device asked for none (VIRTQ_USED_F_NO_NOTIFY). */
  u64 notifies;
  u64 notifies_skipped;
};

/*
 * Allocates the rings for `size` entries (a power of two, at most the
 * device's QueueNumMax), and enables queue `index` on `dev`. Interrupts are
 * suppressed (VIRTQ_AVAIL_F_NO_INTERRUPT): completions are polled.
 */
bool virtq_init(struct virtq *vq, struct virtio_mmio_dev *dev, u32 index, u16 size);
/*
 * virtq_init() with the largest power of two no larger than both `wanted`
 * and the device's QueueNumMax; false if the queue does not exist (max 0).
 */
bool virtq_setup(struct virtq *vq, struct virtio_mmio_dev *dev, u32 index, u16 wanted);
/* Adds one chain and makes it available; false when fewer than `count` descriptors are free. */
bool virtq_add(struct virtq *vq, const struct virtq_buf *bufs, u32 count, void *token);
/* Notifies the device of new buffers unless it asked not to be. */
void virtq_kick(struct virtq *vq);
/* Notifies the device regardless of VIRTQ_USED_F_NO_NOTIFY. */
void virtq_notify(struct virtq *vq);
/* The token of the next completed chain and the length the device wrote, or NULL if none yet. */
void *virtq_get_used(struct virtq *vq, u32 *len);
/* Polls for the next completion for at most `timeout_ns`; NULL on timeout. */
void *virtq_wait_used(struct virtq *vq, u32 *len, u64 timeout_ns);
/* Asks the device for used-buffer interrupts (true) or for none (false). */
void virtq_set_interrupts(struct virtq *vq, bool on);
/* Chains made available and not yet used. */
u16 virtq_in_flight(const struct virtq *vq);

#endif
