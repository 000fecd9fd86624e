/*
 * virtio-net driver (virtio 1.2, 5.1): one receive and one transmit queue,
 * no offloads, no mergeable buffers. Every buffer is one descriptor holding
 * the 12-byte virtio_net_hdr and the Ethernet frame after it.
 */
#ifndef TG_VIRTIO_NET_H
#define TG_VIRTIO_NET_H
#include "common.h"
#include "virtqueue.h"

#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_CTRL_VQ 17
#define VIRTIO_NET_F_MQ 22

#define VIRTIO_NET_HDR_GSO_NONE 0
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1

/* The header with VIRTIO_F_VERSION_1: always 12 bytes, num_buffers included. */
struct virtio_net_hdr {
  u8 flags;
  u8 gso_type;
  u16 hdr_len;
  u16 gso_size;
  u16 csum_start;
  u16 csum_offset;
  u16 num_buffers;
};

#define NET_BUFFER_SIZE 2048 /* header + the largest frame (1514 bytes) fits */
#define NET_MAX_FRAME (NET_BUFFER_SIZE - sizeof(struct virtio_net_hdr))

struct net_buffer {
  struct virtio_net_hdr hdr;
  u8 frame[NET_MAX_FRAME];
};

#define VIRTIO_NET_RX 0
#define VIRTIO_NET_TX 1

struct virtio_net {
  struct virtio_mmio_dev *dev;
  struct virtq rx, tx;
  u8 mac[6];
  bool has_mac;
  struct net_buffer *rx_buffers; /* rx.size of them, all kept in the receive queue */
  struct net_buffer *tx_buffers; /* tx.size of them */
  struct net_buffer **tx_free;   /* a stack of the transmit buffers not in flight */
  u16 tx_free_count;
};

#define VIRTIO_NET_DRIVER_FEATURES ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_NET_F_MAC))

/* Negotiates, sets up both queues, fills the receive queue, sets DRIVER_OK. */
bool virtio_net_init(struct virtio_net *net, struct virtio_mmio_dev *dev, u16 queue_size);
/*
 * The next transmit buffer, or NULL while every one is in flight (collect
 * completions with virtio_net_tx_reclaim). Fill its frame, then send it.
 */
struct net_buffer *virtio_net_tx_buffer(struct virtio_net *net);
/* Queues a filled transmit buffer of `frame_len` bytes; kick with virtq_kick(&net->tx). */
bool virtio_net_send(struct virtio_net *net, struct net_buffer *buf, u32 frame_len);
/* Collects transmit completions; returns how many, and flags a non-zero used length in *bad_len. */
u32 virtio_net_tx_reclaim(struct virtio_net *net, u32 *bad_len);
/* The next received buffer and its frame length (used length minus the header), or NULL. */
struct net_buffer *virtio_net_receive(struct virtio_net *net, u32 *frame_len, u32 *used_len);
/* Gives a received buffer back to the device (kick with virtq_kick(&net->rx)). */
void virtio_net_recycle(struct virtio_net *net, struct net_buffer *buf);

#endif
