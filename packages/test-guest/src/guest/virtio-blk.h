/*
 * virtio-blk driver (virtio 1.2, 5.2): one request queue, requests as
 * header + data + status chains, completions polled.
 */
#ifndef TG_VIRTIO_BLK_H
#define TG_VIRTIO_BLK_H
#include "common.h"
#include "virtqueue.h"

#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8

#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define VIRTIO_BLK_ID_BYTES 20
#define SECTOR_SIZE 512

struct virtio_blk_req_header {
  u32 type;
  u32 reserved;
  u64 sector;
};

/* One request in flight; lives in memory the device reads (header) and writes (status). */
struct blk_request {
  struct virtio_blk_req_header header;
  u8 status;
  /* Driver bookkeeping. */
  u8 *data;
  u32 len;
  u64 sector;
  u64 submitted_ns;
};

struct virtio_blk {
  struct virtio_mmio_dev *dev;
  struct virtq vq;
  u64 capacity; /* in 512-byte sectors */
  u32 size_max; /* largest data descriptor, 0: no limit */
  u32 seg_max;  /* most data descriptors per request, 0: no limit */
  bool read_only;
};

/* The feature bits the driver accepts. */
#define VIRTIO_BLK_DRIVER_FEATURES                                                                    \
  ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_BLK_F_SIZE_MAX) | (1ULL << VIRTIO_BLK_F_SEG_MAX) | \
   (1ULL << VIRTIO_BLK_F_RO) | (1ULL << VIRTIO_BLK_F_BLK_SIZE) | (1ULL << VIRTIO_BLK_F_FLUSH))

/* Negotiates, sets up the queue with up to `queue_size` entries, reads the config, sets DRIVER_OK. */
bool virtio_blk_init(struct virtio_blk *blk, struct virtio_mmio_dev *dev, u16 queue_size);
/*
 * Queues one request: `type` at `sector` with `len` bytes of `data` (split
 * into descriptors of at most size_max). Returns false if the queue is full.
 * The request must stay valid until it completes.
 */
bool virtio_blk_submit(struct virtio_blk *blk, struct blk_request *req, u32 type, u64 sector, void *data,
                       u32 len);
/* The next completed request (status in req->status) and the device's used length, or NULL. */
struct blk_request *virtio_blk_complete(struct virtio_blk *blk, u32 *used_len);
/* Largest request `len` the device accepts in one chain (size_max × seg_max), capped at `cap`. */
u32 virtio_blk_max_request(const struct virtio_blk *blk, u32 cap);

#endif
