/**
 * Guest RAM in shared host mappings, the memory a VMM hands to KVM.
 *
 * Each region is a `MAP_SHARED` mapping, anonymous or of one memfd that
 * holds all regions back to back, so KVM (through the region's
 * `hostAddress`), every worker thread of the VMM and I/O backends see the
 * same pages. A worker rebuilds an equivalent memory from
 * {@link GuestMemoryMmap.toDescriptor}: through views of the owner's
 * mappings (`viewAt`) or through its own mappings of the memfd.
 */
import {
  addressOf,
  close as closeFd,
  ftruncate,
  MADV_HUGEPAGE,
  MAP_ANONYMOUS,
  MAP_HUGETLB,
  MAP_NORESERVE,
  MAP_SHARED,
  MFD_HUGETLB,
  madvise,
  memfdCreate,
  mmap,
  munmap,
  pageSize,
  viewAt,
} from '@tsvmm/vmm-sys-util';
import { GuestAddress } from './address.js';
import {
  bitmapFor,
  type DirtyTrackingOption,
  dirtyPageSizeOf,
  type GuestMemoryDescriptor,
  layoutRanges,
  type MemoryRange,
} from './ranges.js';
import { GuestRegion } from './region.js';
import { GuestRegionCollection } from './region-collection.js';

/** The huge page size of x86-64 hugetlbfs and THP. */
export const HUGE_PAGE_SIZE = 2 * 1024 * 1024;

/** `struct kvm_userspace_memory_region`, field for field. */
export interface UserMemoryRegion {
  slot: number;
  flags: number;
  guest_phys_addr: bigint;
  memory_size: bigint;
  userspace_addr: bigint;
}

/** Options of {@link GuestMemoryMmap.fromRanges}. */
export interface GuestMemoryMmapOptions {
  /**
   * `'anonymous'` (default): one anonymous shared mapping per region.
   * `'memfd'`: one memfd holding every region, so other threads or processes
   * can map the same pages themselves.
   */
  backing?: 'anonymous' | 'memfd';
  /**
   * `true`: hugetlbfs pages (`MAP_HUGETLB`/`MFD_HUGETLB`; the host must have
   * them reserved, and ranges must be 2 MiB aligned). `'transparent'`:
   * `madvise(MADV_HUGEPAGE)`. Default: base pages.
   */
  hugepages?: boolean | 'transparent';
  /** Track written pages; default off. */
  dirtyTracking?: DirtyTrackingOption;
  /** Name of the memfd (visible in /proc/PID/fd); default `guest-ram`. */
  memfdName?: string;
}

/** Options of {@link GuestMemoryMmap.fromDescriptor}. */
export interface FromDescriptorOptions {
  /**
   * `'view'`: view the owner's mappings at their host addresses (the owner
   * must outlive this memory). `'memfd'`: map the memfd again (needs a memfd
   * backing). Default: `'memfd'` when the descriptor has one, else `'view'`.
   */
  map?: 'view' | 'memfd';
}

/** A {@link GuestMemory} over shared mmap'd host memory; see the module comment. */
export class GuestMemoryMmap extends GuestRegionCollection {
  /** The memfd behind every region, if the memory is memfd-backed. */
  readonly memfd: number | undefined;
  readonly #dirtyPageSize: number | undefined;
  readonly #ownsMappings: boolean;
  readonly #ownsFd: boolean;

  private constructor(
    regions: GuestRegion[],
    dirtyPageSize: number | undefined,
    memfd: number | undefined,
    ownsMappings: boolean,
    ownsFd: boolean,
  ) {
    super(regions);
    this.memfd = memfd;
    this.#dirtyPageSize = dirtyPageSize;
    this.#ownsMappings = ownsMappings;
    this.#ownsFd = ownsFd;
  }

  /**
   * Maps zeroed guest RAM for the given ranges, which must be page-aligned
   * (2 MiB aligned with `hugepages: true`), non-overlapping, and may leave
   * gaps. Ranges above 4 GiB in size become several adjacent regions.
   * @throws RangeError/TypeError for bad ranges or options; SysError if a system call fails.
   */
  static fromRanges(ranges: readonly MemoryRange[], options: GuestMemoryMmapOptions = {}): GuestMemoryMmap {
    const backing = options.backing ?? 'anonymous';
    if (backing !== 'anonymous' && backing !== 'memfd') {
      throw new TypeError(`backing must be 'anonymous' or 'memfd', got ${String(backing)}`);
    }
    const huge = options.hugepages ?? false;
    if (huge !== true && huge !== false && huge !== 'transparent') {
      throw new TypeError(`hugepages must be a boolean or 'transparent', got ${String(huge)}`);
    }
    const layout = layoutRanges(ranges, huge === true ? HUGE_PAGE_SIZE : pageSize());
    const dirtyPageSize = dirtyPageSizeOf(options.dirtyTracking);
    let fd: number | undefined;
    const mapped: ArrayBuffer[] = [];
    try {
      if (backing === 'memfd') {
        fd = memfdCreate(options.memfdName ?? 'guest-ram', huge === true ? MFD_HUGETLB : 0);
        ftruncate(
          fd,
          layout.reduce((sum, r) => sum + r.size, 0),
        );
      }
      const regions: GuestRegion[] = [];
      let fileOffset = 0;
      for (const { start, size } of layout) {
        // Base pages are reserved lazily (MAP_NORESERVE): guest RAM is mostly
        // untouched. Hugetlb pages must be reserved now, or a fault on a page
        // the pool cannot supply would kill the process with SIGBUS.
        const flags = MAP_SHARED | (huge === true ? 0 : MAP_NORESERVE);
        const buffer =
          fd === undefined
            ? mmap(size, { flags: flags | MAP_ANONYMOUS | (huge === true ? MAP_HUGETLB : 0) })
            : mmap(size, { fd, offset: fileOffset, flags });
        mapped.push(buffer);
        if (huge === 'transparent') madvise(buffer, MADV_HUGEPAGE);
        regions.push(
          new GuestRegion(start, buffer, bitmapFor(size, dirtyPageSize), {
            hostAddress: addressOf(buffer),
            ...(fd === undefined ? {} : { fd, fileOffset }),
          }),
        );
        fileOffset += size;
      }
      return new GuestMemoryMmap(regions, dirtyPageSize, fd, true, fd !== undefined);
    } catch (err) {
      for (const b of mapped) munmap(b);
      if (fd !== undefined) closeFd(fd);
      throw err;
    }
  }

  /**
   * Rebuilds, typically in a worker, a memory over the same pages as the one
   * {@link GuestMemoryMmap.toDescriptor} described, sharing its dirty bitmaps.
   * @throws TypeError for a descriptor of another kind, or `map: 'memfd'` without a memfd.
   */
  static fromDescriptor(
    descriptor: GuestMemoryDescriptor,
    options: FromDescriptorOptions = {},
  ): GuestMemoryMmap {
    if (
      descriptor?.kind !== 'mmap' ||
      !Array.isArray(descriptor.regions) ||
      descriptor.regions.length === 0
    ) {
      throw new TypeError('not a descriptor of a GuestMemoryMmap');
    }
    const fd = descriptor.regions[0]!.fd;
    const how = options.map ?? (fd === undefined ? 'view' : 'memfd');
    if (how === 'memfd' && fd === undefined) throw new TypeError("map: 'memfd' needs a memfd-backed memory");
    const pageSizeOfBitmap = descriptor.dirtyPageSize;
    // A failure part-way leaves the mappings made so far to their buffers'
    // finalizers (a descriptor is the VMM's own data: this is a bug path).
    const regions = descriptor.regions.map((d, i) => {
      if (typeof d.hostAddress !== 'bigint') throw new TypeError(`regions[${i}] has no hostAddress`);
      let buffer: ArrayBuffer;
      if (how === 'memfd') {
        if (d.fd === undefined || d.fileOffset === undefined)
          throw new TypeError(`regions[${i}] has no memfd`);
        buffer = mmap(d.size, { fd: d.fd, offset: d.fileOffset, flags: MAP_SHARED | MAP_NORESERVE });
      } else {
        buffer = viewAt(d.hostAddress, d.size);
      }
      return new GuestRegion(
        GuestAddress(d.start),
        buffer,
        bitmapFor(d.size, pageSizeOfBitmap, d.dirtyBitmap),
        {
          hostAddress: how === 'memfd' ? addressOf(buffer) : d.hostAddress,
          ...(d.fd === undefined || d.fileOffset === undefined ? {} : { fd: d.fd, fileOffset: d.fileOffset }),
        },
      );
    });
    return new GuestMemoryMmap(regions, pageSizeOfBitmap, fd, how === 'memfd', false);
  }

  /**
   * The regions as `struct kvm_userspace_memory_region` values (C field
   * names, as `@tsvmm/kvm-ioctls` takes them) for KVM_SET_USER_MEMORY_REGION,
   * one slot per region numbered from `firstSlot`. `flags` is e.g.
   * `KVM_MEM_LOG_DIRTY_PAGES` (1) to have KVM log the guest's own writes.
   */
  userMemoryRegions(firstSlot = 0, flags = 0): UserMemoryRegion[] {
    if (!Number.isInteger(firstSlot) || firstSlot < 0 || firstSlot + this.regions.length > 0xffff_ffff) {
      throw new RangeError(
        `firstSlot must leave room for ${this.regions.length} u32 slot numbers, got ${firstSlot}`,
      );
    }
    if (!Number.isInteger(flags) || flags < 0 || flags > 0xffff_ffff) {
      throw new RangeError(`flags must be a u32, got ${flags}`);
    }
    return this.regions.map((r, i) => ({
      slot: firstSlot + i,
      flags,
      guest_phys_addr: r.start,
      memory_size: BigInt(r.size),
      userspace_addr: r.hostAddress!,
    }));
  }

  /** A structured-clonable descriptor from which another thread rebuilds this memory over the same pages. */
  toDescriptor(): GuestMemoryDescriptor {
    return {
      kind: 'mmap',
      ...(this.#dirtyPageSize === undefined ? {} : { dirtyPageSize: this.#dirtyPageSize }),
      regions: this.regions.map((r) => ({
        start: r.start,
        size: r.size,
        hostAddress: r.hostAddress!,
        ...(r.fd === undefined || r.fileOffset === undefined ? {} : { fd: r.fd, fileOffset: r.fileOffset }),
        ...(r.dirtyBitmap === undefined ? {} : { dirtyBitmap: r.dirtyBitmap.buffer }),
      })),
    };
  }

  /**
   * Ends this memory: every later access throws `CLOSED`, the mappings it
   * made are unmapped (so every view of them, such as a slice handed out
   * earlier, is detached and reads as empty), and the memfd it created is
   * closed. A memory rebuilt from a descriptor by viewing the owner's
   * mappings only lets go of its views. Another thread's views of mappings
   * this closes must not be used afterwards: close the owner last.
   * Idempotent.
   */
  close(): void {
    if (this.closed) return;
    const regions = this.regions;
    this.detach();
    if (this.#ownsMappings) for (const r of regions) munmap(r.buffer as ArrayBuffer);
    if (this.#ownsFd && this.memfd !== undefined) closeFd(this.memfd);
  }

  /** {@link GuestMemoryMmap.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
