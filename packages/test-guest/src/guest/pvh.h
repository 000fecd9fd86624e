/*
 * The PVH boot ABI (Xen's start_info.h, version 1): what the VMM hands us in
 * %ebx, with the command line and the memory map.
 */
#ifndef TG_PVH_H
#define TG_PVH_H
#include "common.h"

#define HVM_START_MAGIC_VALUE 0x336ec578
#define HVM_MEMMAP_TYPE_RAM 1

struct hvm_start_info {
  u32 magic;
  u32 version;
  u32 flags;
  u32 nr_modules;
  u64 modlist_paddr;
  u64 cmdline_paddr;
  u64 rsdp_paddr;
  u64 memmap_paddr;
  u32 memmap_entries;
  u32 reserved;
};

struct hvm_memmap_table_entry {
  u64 addr;
  u64 size;
  u32 type;
  u32 reserved;
};

#endif
