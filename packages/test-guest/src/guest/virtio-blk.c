/* virtio-blk driver. */
#include "virtio-blk.h"

#define CONFIG_CAPACITY 0x00
#define CONFIG_SIZE_MAX 0x08
#define CONFIG_SEG_MAX 0x0c
/* Data descriptors per request when the device sets no limit (we keep chains short). */
#define DEFAULT_SEGMENTS 64

bool virtio_blk_init(struct virtio_blk *blk, struct virtio_mmio_dev *dev, u16 queue_size) {
  memset(blk, 0, sizeof *blk);
  blk->dev = dev;
  if (!virtio_mmio_negotiate(dev, VIRTIO_BLK_DRIVER_FEATURES, 1ULL << VIRTIO_F_VERSION_1)) return false;
  blk->capacity = virtio_mmio_config64(dev, CONFIG_CAPACITY);
  if (dev->features & (1ULL << VIRTIO_BLK_F_SIZE_MAX)) blk->size_max = virtio_mmio_config32(dev, CONFIG_SIZE_MAX);
  if (dev->features & (1ULL << VIRTIO_BLK_F_SEG_MAX)) blk->seg_max = virtio_mmio_config32(dev, CONFIG_SEG_MAX);
  blk->read_only = (dev->features & (1ULL << VIRTIO_BLK_F_RO)) != 0;
  if (!virtq_setup(&blk->vq, dev, 0, queue_size)) return false;
  virtio_mmio_add_status(dev, VIRTIO_STATUS_DRIVER_OK);
  return true;
}

static u32 segments_allowed(const struct virtio_blk *blk) {
  u32 segs = blk->seg_max ? blk->seg_max : DEFAULT_SEGMENTS;
  u32 ring = blk->vq.size > 2 ? blk->vq.size - 2u : 1u; /* header and status take two descriptors */
  return segs < ring ? segs : ring;
}

u32 virtio_blk_max_request(const struct virtio_blk *blk, u32 cap) {
  u64 max = blk->size_max ? (u64)blk->size_max * segments_allowed(blk) : cap;
  max &= ~(u64)(SECTOR_SIZE - 1);
  return max < cap ? (u32)max : cap;
}

bool virtio_blk_submit(struct virtio_blk *blk, struct blk_request *req, u32 type, u64 sector, void *data,
                       u32 len) {
  struct virtq_buf bufs[2 + DEFAULT_SEGMENTS];
  u32 n = 0;
  req->header.type = type;
  req->header.reserved = 0;
  req->header.sector = sector;
  req->status = 0xff; /* a value the device never writes: a request it did not complete stays visible */
  req->data = data;
  req->len = len;
  req->sector = sector;
  bufs[n++] = (struct virtq_buf){(u64)&req->header, sizeof req->header, false};
  bool device_writes = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
  u32 piece = blk->size_max ? blk->size_max : len;
  for (u32 off = 0; off < len; off += piece) {
    if (n - 1 >= segments_allowed(blk) || n >= ARRAY_SIZE(bufs) - 1) return false;
    u32 this_len = len - off < piece ? len - off : piece;
    bufs[n++] = (struct virtq_buf){(u64)data + off, this_len, device_writes};
  }
  bufs[n++] = (struct virtq_buf){(u64)&req->status, 1, true};
  return virtq_add(&blk->vq, bufs, n, req);
}

struct blk_request *virtio_blk_complete(struct virtio_blk *blk, u32 *used_len) {
  return virtq_get_used(&blk->vq, used_len);
}
