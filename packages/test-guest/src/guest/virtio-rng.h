/* virtio-rng driver (virtio 1.2, 5.4): one request queue of device-writable buffers. */
#ifndef TG_VIRTIO_RNG_H
#define TG_VIRTIO_RNG_H
#include "common.h"
#include "virtqueue.h"

struct virtio_rng {
  struct virtio_mmio_dev *dev;
  struct virtq vq;
};

bool virtio_rng_init(struct virtio_rng *rng, struct virtio_mmio_dev *dev, u16 queue_size);
/* Queues `len` bytes at `buf` for the device to fill; `token` comes back from virtq_get_used. */
bool virtio_rng_request(struct virtio_rng *rng, void *buf, u32 len, void *token);

#endif
