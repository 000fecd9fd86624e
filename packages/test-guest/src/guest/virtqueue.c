/* Split virtqueue, driver side. */
#include "virtqueue.h"
#include "clock.h"
#include "memory.h"

bool virtq_init(struct virtq *vq, struct virtio_mmio_dev *dev, u32 index, u16 size) {
  memset(vq, 0, sizeof *vq);
  if (size == 0 || (size & (size - 1)) != 0) return false;
  vq->dev = dev;
  vq->index = index;
  vq->size = size;
  vq->desc = mem_alloc(sizeof(struct virtq_desc) * size, PAGE_SIZE);
  vq->avail = mem_alloc(sizeof(struct virtq_avail) + sizeof(u16) * (size + 1u), PAGE_SIZE);
  vq->used = mem_alloc(sizeof(struct virtq_used) + sizeof(struct virtq_used_elem) * size + sizeof(u16), PAGE_SIZE);
  vq->next = mem_alloc(sizeof(u16) * size, 8);
  vq->chain_len = mem_alloc(sizeof(u16) * size, 8);
  vq->tokens = mem_alloc(sizeof(void *) * size, 8);
  if (!vq->desc || !vq->avail || !vq->used || !vq->next || !vq->chain_len || !vq->tokens) return false;
  for (u16 i = 0; i < size; i++) vq->next[i] = (u16)(i + 1);
  vq->num_free = size;
  vq->avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
  virtio_mmio_queue_enable(dev, index, size, (u64)vq->desc, (u64)vq->avail, (u64)vq->used);
  return true;
}

bool virtq_setup(struct virtq *vq, struct virtio_mmio_dev *dev, u32 index, u16 wanted) {
  u32 max = virtio_mmio_queue_max(dev, index);
  u16 size = 1;
  while ((u32)size * 2 <= max && size * 2 <= wanted) size = (u16)(size * 2);
  return max > 0 && virtq_init(vq, dev, index, size);
}

bool virtq_add(struct virtq *vq, const struct virtq_buf *bufs, u32 count, void *token) {
  if (count == 0 || count > vq->num_free || token == NULL) return false;
  u16 head = vq->free_head, at = head;
  for (u32 i = 0; i < count; i++) {
    vq->desc[at].addr = bufs[i].addr;
    vq->desc[at].len = bufs[i].len;
    vq->desc[at].flags = (u16)((bufs[i].writable ? VIRTQ_DESC_F_WRITE : 0) | (i + 1 < count ? VIRTQ_DESC_F_NEXT : 0));
    vq->desc[at].next = i + 1 < count ? vq->next[at] : 0;
    if (i + 1 < count) at = vq->next[at];
  }
  vq->free_head = vq->next[at];
  vq->num_free = (u16)(vq->num_free - count);
  vq->chain_len[head] = (u16)count;
  vq->tokens[head] = token;
  vq->avail->ring[vq->avail_idx & (vq->size - 1)] = head;
  barrier(); /* the ring entry before the index that publishes it */
  vq->avail->idx = ++vq->avail_idx;
  return true;
}

void virtq_notify(struct virtq *vq) {
  vq->notifies++;
  virtio_mmio_notify(vq->dev, vq->index);
}

void virtq_kick(struct virtq *vq) {
  mb(); /* the published index before reading the device's flags */
  if (vq->used->flags & VIRTQ_USED_F_NO_NOTIFY) {
    vq->notifies_skipped++;
    return;
  }
  virtq_notify(vq);
}

void *virtq_get_used(struct virtq *vq, u32 *len) {
  while (vq->last_used != vq->used->idx) {
    barrier(); /* the index before the entry it covers */
    volatile struct virtq_used_elem *e = &vq->used->ring[vq->last_used & (vq->size - 1)];
    u32 id = e->id, written = e->len;
    vq->last_used++;
    if (id >= vq->size || vq->tokens[id] == NULL) {
      vq->bad_used++;
      vq->bad_used_id = id;
      continue;
    }
    void *token = vq->tokens[id];
    vq->tokens[id] = NULL;
    /* Return the chain to the free list, following our own copy of the links. */
    u16 last = (u16)id;
    for (u16 i = 1; i < vq->chain_len[id]; i++) last = vq->next[last];
    vq->next[last] = vq->free_head;
    vq->free_head = (u16)id;
    vq->num_free = (u16)(vq->num_free + vq->chain_len[id]);
    if (len) *len = written;
    return token;
  }
  return NULL;
}

void *virtq_wait_used(struct virtq *vq, u32 *len, u64 timeout_ns) {
  u64 start = clock_ns();
  for (u64 spins = 0;; spins++) {
    void *token = virtq_get_used(vq, len);
    if (token) return token;
    /* Without a clock, a generous spin count stands in for the timeout. */
    if (clock_available() ? clock_ns() - start > timeout_ns : spins > timeout_ns) return NULL;
    cpu_relax();
  }
}

void virtq_set_interrupts(struct virtq *vq, bool on) {
  vq->avail->flags = on ? 0 : VIRTQ_AVAIL_F_NO_INTERRUPT;
  mb();
}

u16 virtq_in_flight(const struct virtq *vq) { return (u16)(vq->size - vq->num_free); }
