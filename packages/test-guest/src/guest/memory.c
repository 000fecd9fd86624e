/* The bump allocator. Only the identity-mapped first 4 GiB is used. */
#include "memory.h"

#define MAPPED_LIMIT 0x100000000ULL

extern u8 __image_end[];

static u64 next, limit;

/* Keeps the allocator clear of boot data the VMM may have put after the image. */
static void skip(u64 start, u64 size) {
  if (start + size > next && start < limit) next = start + size;
}

bool memory_init(const struct hvm_start_info *start_info) {
  if (start_info->version < 1 || start_info->memmap_paddr == 0) return false;
  const struct hvm_memmap_table_entry *map = (const void *)start_info->memmap_paddr;
  u64 image_end = (u64)__image_end;
  for (u32 i = 0; i < start_info->memmap_entries; i++) {
    if (map[i].type != HVM_MEMMAP_TYPE_RAM) continue;
    u64 start = map[i].addr, end = map[i].addr + map[i].size;
    if (image_end < start || image_end >= end) continue;
    next = image_end;
    limit = end < MAPPED_LIMIT ? end : MAPPED_LIMIT;
    skip((u64)start_info, sizeof *start_info);
    skip(start_info->memmap_paddr, start_info->memmap_entries * sizeof *map);
    if (start_info->cmdline_paddr) skip(start_info->cmdline_paddr, strlen((const char *)start_info->cmdline_paddr) + 1);
    return next <= limit;
  }
  return false;
}

void *mem_alloc(u64 size, u64 align) {
  u64 at = ALIGN_UP(next, align);
  if (at < next || at > limit || size > limit - at) return NULL;
  next = at + size;
  memset((void *)at, 0, size);
  return (void *)at;
}

u64 mem_free_bytes(void) { return limit - next; }
