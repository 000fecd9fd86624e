/*
 * The virtio-mmio transport, version 2 (virtio 1.2, section 4.2), driver side.
 * Every register access is one 32-bit MMIO access: one exit to the VMM.
 */
#ifndef TG_VIRTIO_MMIO_H
#define TG_VIRTIO_MMIO_H
#include "common.h"

/* Register offsets (4.2.2). */
#define VIRTIO_MMIO_MAGIC_VALUE 0x000
#define VIRTIO_MMIO_VERSION 0x004
#define VIRTIO_MMIO_DEVICE_ID 0x008
#define VIRTIO_MMIO_VENDOR_ID 0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL 0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034
#define VIRTIO_MMIO_QUEUE_NUM 0x038
#define VIRTIO_MMIO_QUEUE_READY 0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064
#define VIRTIO_MMIO_STATUS 0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW 0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW 0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW 0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc
#define VIRTIO_MMIO_CONFIG 0x100

#define VIRTIO_MMIO_MAGIC 0x74726976 /* "virt" */
#define VIRTIO_MMIO_INT_VRING 0x1
#define VIRTIO_MMIO_INT_CONFIG 0x2

/* Device status bits (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

#define VIRTIO_F_VERSION_1 32

#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_RNG 4

struct virtio_mmio_dev {
  volatile u8 *base;
  u64 size;
  u32 irq;
  u32 version;
  u32 device_id;
  u32 vendor_id;
  /* What the device offered and what was negotiated (after virtio_mmio_negotiate). */
  u64 offered;
  u64 features;
};

u32 vmmio_read(const struct virtio_mmio_dev *dev, u32 offset);
void vmmio_write(const struct virtio_mmio_dev *dev, u32 offset, u32 value);

/* Reads the identification registers; false unless the magic value is there. */
bool virtio_mmio_probe(struct virtio_mmio_dev *dev, u64 base, u64 size, u32 irq);
/* Writes 0 to Status and waits (bounded) until it reads back 0; false if it never does. */
bool virtio_mmio_reset(struct virtio_mmio_dev *dev);
u8 virtio_mmio_status(const struct virtio_mmio_dev *dev);
/* Sets `bits` in Status, keeping those already set. */
void virtio_mmio_add_status(const struct virtio_mmio_dev *dev, u8 bits);
/* The 64 feature bits the device offers. */
u64 virtio_mmio_device_features(const struct virtio_mmio_dev *dev);
/* Writes all 64 driver feature bits (no check against the offer). */
void virtio_mmio_write_driver_features(const struct virtio_mmio_dev *dev, u64 features);
/*
 * Reset, ACKNOWLEDGE, DRIVER, and feature negotiation (3.1.1): accepts
 * offered & wanted, sets FEATURES_OK and reads it back. Returns false (and
 * sets FAILED) if the device does not offer every bit of `required`, or
 * refuses FEATURES_OK.
 */
bool virtio_mmio_negotiate(struct virtio_mmio_dev *dev, u64 wanted, u64 required);
/* QueueNumMax of queue `index` (0: the queue does not exist). */
u32 virtio_mmio_queue_max(const struct virtio_mmio_dev *dev, u32 index);
/* Writes QueueNum and the three ring addresses of queue `index`, then QueueReady = 1. */
void virtio_mmio_queue_enable(const struct virtio_mmio_dev *dev, u32 index, u32 size, u64 desc, u64 driver,
                              u64 device);
void virtio_mmio_notify(const struct virtio_mmio_dev *dev, u32 index);
/* Device configuration space (little-endian), wider fields read under a generation check (2.5.1). */
u32 virtio_mmio_config32(const struct virtio_mmio_dev *dev, u32 offset);
u64 virtio_mmio_config64(const struct virtio_mmio_dev *dev, u32 offset);
u8 virtio_mmio_config8(const struct virtio_mmio_dev *dev, u32 offset);
const char *virtio_device_name(u32 device_id);

#endif
