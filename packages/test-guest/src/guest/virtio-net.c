/* virtio-net driver. */
#include "virtio-net.h"
#include "memory.h"

#define CONFIG_MAC 0x00

bool virtio_net_init(struct virtio_net *net, struct virtio_mmio_dev *dev, u16 queue_size) {
  memset(net, 0, sizeof *net);
  net->dev = dev;
  if (!virtio_mmio_negotiate(dev, VIRTIO_NET_DRIVER_FEATURES, 1ULL << VIRTIO_F_VERSION_1)) return false;
  if (dev->features & (1ULL << VIRTIO_NET_F_MAC)) {
    for (int i = 0; i < 6; i++) net->mac[i] = virtio_mmio_config8(dev, CONFIG_MAC + (u32)i);
    net->has_mac = true;
  }
  if (!virtq_setup(&net->rx, dev, VIRTIO_NET_RX, queue_size) || !virtq_setup(&net->tx, dev, VIRTIO_NET_TX, queue_size))
    return false;
  net->rx_buffers = mem_alloc(sizeof(struct net_buffer) * net->rx.size, PAGE_SIZE);
  net->tx_buffers = mem_alloc(sizeof(struct net_buffer) * net->tx.size, PAGE_SIZE);
  net->tx_free = mem_alloc(sizeof(struct net_buffer *) * net->tx.size, 8);
  if (!net->rx_buffers || !net->tx_buffers || !net->tx_free) return false;
  for (u16 i = 0; i < net->tx.size; i++) net->tx_free[i] = &net->tx_buffers[i];
  net->tx_free_count = net->tx.size;
  for (u16 i = 0; i < net->rx.size; i++) virtio_net_recycle(net, &net->rx_buffers[i]);
  virtio_mmio_add_status(dev, VIRTIO_STATUS_DRIVER_OK);
  virtq_kick(&net->rx);
  return true;
}

void virtio_net_recycle(struct virtio_net *net, struct net_buffer *buf) {
  struct virtq_buf b = {(u64)buf, sizeof *buf, true};
  virtq_add(&net->rx, &b, 1, buf);
}

struct net_buffer *virtio_net_tx_buffer(struct virtio_net *net) {
  return net->tx_free_count ? net->tx_free[--net->tx_free_count] : NULL;
}

bool virtio_net_send(struct virtio_net *net, struct net_buffer *buf, u32 frame_len) {
  memset(&buf->hdr, 0, sizeof buf->hdr);
  struct virtq_buf b = {(u64)buf, (u32)sizeof buf->hdr + frame_len, false};
  if (frame_len <= NET_MAX_FRAME && virtq_add(&net->tx, &b, 1, buf)) return true;
  net->tx_free[net->tx_free_count++] = buf;
  return false;
}

u32 virtio_net_tx_reclaim(struct virtio_net *net, u32 *bad_len) {
  u32 n = 0, len;
  struct net_buffer *buf;
  while ((buf = virtq_get_used(&net->tx, &len)) != NULL) {
    if (len != 0 && bad_len) *bad_len = len; /* the device writes nothing into a transmit buffer */
    net->tx_free[net->tx_free_count++] = buf;
    n++;
  }
  return n;
}

struct net_buffer *virtio_net_receive(struct virtio_net *net, u32 *frame_len, u32 *used_len) {
  u32 len;
  struct net_buffer *buf = virtq_get_used(&net->rx, &len);
  if (!buf) return NULL;
  if (used_len) *used_len = len;
  *frame_len = len >= sizeof buf->hdr ? len - (u32)sizeof buf->hdr : 0;
  if (*frame_len > NET_MAX_FRAME) *frame_len = NET_MAX_FRAME;
  return buf;
}
