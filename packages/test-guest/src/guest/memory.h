/*
 * Buffers for the drivers and workloads: a bump allocator over the RAM after
 * the image, found in the PVH memory map. Addresses are identity-mapped, so a
 * buffer's address is also what the device sees (its guest physical address).
 */
#ifndef TG_MEMORY_H
#define TG_MEMORY_H
#include "common.h"
#include "pvh.h"

/* Finds the RAM after the image; false when the memory map has none. */
bool memory_init(const struct hvm_start_info *start_info);
/* `size` bytes aligned to `align` (a power of two), zeroed; NULL when RAM runs out. Never freed. */
void *mem_alloc(u64 size, u64 align);
/* Bytes still free. */
u64 mem_free_bytes(void);

#endif
