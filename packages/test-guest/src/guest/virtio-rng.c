/* virtio-rng driver. */
#include "virtio-rng.h"

bool virtio_rng_init(struct virtio_rng *rng, struct virtio_mmio_dev *dev, u16 queue_size) {
  memset(rng, 0, sizeof *rng);
  rng->dev = dev;
  if (!virtio_mmio_negotiate(dev, 1ULL << VIRTIO_F_VERSION_1, 1ULL << VIRTIO_F_VERSION_1)) return false;
  if (!virtq_setup(&rng->vq, dev, 0, queue_size)) return false;
  virtio_mmio_add_status(dev, VIRTIO_STATUS_DRIVER_OK);
  return true;
}

bool virtio_rng_request(struct virtio_rng *rng, void *buf, u32 len, void *token) {
  struct virtq_buf b = {(u64)buf, len, true};
  return virtq_add(&rng->vq, &b, 1, token);
}
