/* virtio-mmio transport, driver side. */
#include "virtio-mmio.h"

/* How many times a driver re-reads Status after a reset before it gives up. */
#define RESET_POLLS 1000
/* How many times a config read is retried while ConfigGeneration keeps changing. */
#define CONFIG_RETRIES 100

u32 vmmio_read(const struct virtio_mmio_dev *dev, u32 offset) { return mmio_read32(dev->base + offset); }
void vmmio_write(const struct virtio_mmio_dev *dev, u32 offset, u32 value) {
  mmio_write32(dev->base + offset, value);
}

bool virtio_mmio_probe(struct virtio_mmio_dev *dev, u64 base, u64 size, u32 irq) {
  memset(dev, 0, sizeof *dev);
  dev->base = (volatile u8 *)base;
  dev->size = size;
  dev->irq = irq;
  if (vmmio_read(dev, VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MMIO_MAGIC) return false;
  dev->version = vmmio_read(dev, VIRTIO_MMIO_VERSION);
  dev->device_id = vmmio_read(dev, VIRTIO_MMIO_DEVICE_ID);
  dev->vendor_id = vmmio_read(dev, VIRTIO_MMIO_VENDOR_ID);
  return true;
}

bool virtio_mmio_reset(struct virtio_mmio_dev *dev) {
  vmmio_write(dev, VIRTIO_MMIO_STATUS, 0);
  dev->features = 0;
  for (int i = 0; i < RESET_POLLS; i++)
    if (vmmio_read(dev, VIRTIO_MMIO_STATUS) == 0) return true;
  return false;
}

u8 virtio_mmio_status(const struct virtio_mmio_dev *dev) { return (u8)vmmio_read(dev, VIRTIO_MMIO_STATUS); }

void virtio_mmio_add_status(const struct virtio_mmio_dev *dev, u8 bits) {
  vmmio_write(dev, VIRTIO_MMIO_STATUS, virtio_mmio_status(dev) | bits);
}

u64 virtio_mmio_device_features(const struct virtio_mmio_dev *dev) {
  vmmio_write(dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
  u64 low = vmmio_read(dev, VIRTIO_MMIO_DEVICE_FEATURES);
  vmmio_write(dev, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
  u64 high = vmmio_read(dev, VIRTIO_MMIO_DEVICE_FEATURES);
  return high << 32 | low;
}

void virtio_mmio_write_driver_features(const struct virtio_mmio_dev *dev, u64 features) {
  vmmio_write(dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
  vmmio_write(dev, VIRTIO_MMIO_DRIVER_FEATURES, (u32)features);
  vmmio_write(dev, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
  vmmio_write(dev, VIRTIO_MMIO_DRIVER_FEATURES, (u32)(features >> 32));
}

bool virtio_mmio_negotiate(struct virtio_mmio_dev *dev, u64 wanted, u64 required) {
  if (!virtio_mmio_reset(dev)) return false;
  virtio_mmio_add_status(dev, VIRTIO_STATUS_ACKNOWLEDGE);
  virtio_mmio_add_status(dev, VIRTIO_STATUS_DRIVER);
  dev->offered = virtio_mmio_device_features(dev);
  if ((dev->offered & required) != required) {
    virtio_mmio_add_status(dev, VIRTIO_STATUS_FAILED);
    return false;
  }
  dev->features = dev->offered & (wanted | required);
  virtio_mmio_write_driver_features(dev, dev->features);
  virtio_mmio_add_status(dev, VIRTIO_STATUS_FEATURES_OK);
  if (!(virtio_mmio_status(dev) & VIRTIO_STATUS_FEATURES_OK)) {
    virtio_mmio_add_status(dev, VIRTIO_STATUS_FAILED);
    return false;
  }
  return true;
}

u32 virtio_mmio_queue_max(const struct virtio_mmio_dev *dev, u32 index) {
  vmmio_write(dev, VIRTIO_MMIO_QUEUE_SEL, index);
  return vmmio_read(dev, VIRTIO_MMIO_QUEUE_NUM_MAX);
}

void virtio_mmio_queue_enable(const struct virtio_mmio_dev *dev, u32 index, u32 size, u64 desc, u64 driver,
                              u64 device) {
  vmmio_write(dev, VIRTIO_MMIO_QUEUE_SEL, index);
  vmmio_write(dev, VIRTIO_MMIO_QUEUE_NUM, size);
  vmmio_write(dev, VIRTIO_MMIO_QUEUE_DESC_LOW, (u32)desc);
  vmmio_write(dev, VIRTIO_MMIO_QUEUE_DESC_HIGH, (u32)(desc >> 32));
  vmmio_write(dev, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (u32)driver);
  vmmio_write(dev, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (u32)(driver >> 32));
  vmmio_write(dev, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (u32)device);
  vmmio_write(dev, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (u32)(device >> 32));
  vmmio_write(dev, VIRTIO_MMIO_QUEUE_READY, 1);
}

void virtio_mmio_notify(const struct virtio_mmio_dev *dev, u32 index) {
  vmmio_write(dev, VIRTIO_MMIO_QUEUE_NOTIFY, index);
}

/*
 * Config space reads: byte-wide fields need no generation check; wider ones
 * are re-read until ConfigGeneration is the same before and after (2.5.1),
 * a bounded number of times.
 */
u8 virtio_mmio_config8(const struct virtio_mmio_dev *dev, u32 offset) {
  return mmio_read8(dev->base + VIRTIO_MMIO_CONFIG + offset);
}

u32 virtio_mmio_config32(const struct virtio_mmio_dev *dev, u32 offset) {
  u32 value = 0;
  for (int i = 0; i < CONFIG_RETRIES; i++) {
    u32 before = vmmio_read(dev, VIRTIO_MMIO_CONFIG_GENERATION);
    value = vmmio_read(dev, VIRTIO_MMIO_CONFIG + offset);
    if (before == vmmio_read(dev, VIRTIO_MMIO_CONFIG_GENERATION)) break;
  }
  return value;
}

u64 virtio_mmio_config64(const struct virtio_mmio_dev *dev, u32 offset) {
  u32 low = 0, high = 0;
  for (int i = 0; i < CONFIG_RETRIES; i++) {
    u32 before = vmmio_read(dev, VIRTIO_MMIO_CONFIG_GENERATION);
    low = vmmio_read(dev, VIRTIO_MMIO_CONFIG + offset);
    high = vmmio_read(dev, VIRTIO_MMIO_CONFIG + offset + 4);
    if (before == vmmio_read(dev, VIRTIO_MMIO_CONFIG_GENERATION)) break;
  }
  return (u64)high << 32 | low;
}

const char *virtio_device_name(u32 device_id) {
  switch (device_id) {
    case VIRTIO_ID_NET: return "net";
    case VIRTIO_ID_BLOCK: return "blk";
    case VIRTIO_ID_RNG: return "rng";
    default: return "other";
  }
}
