/**
 * `Kvm`: the `/dev/kvm` system descriptor. What the host's KVM supports
 * (API version, capabilities, vCPU and memory-slot limits, CPUID, MSRs),
 * and the creation of VMs.
 */
import { O_RDWR, open } from '@tsvmm/vmm-sys-util';
import { Cap } from './cap.js';
import { KvmError, wrapSys } from './errors.js';
import { KvmFd } from './kvm-fd.js';
import type { StructType } from './layout.js';
import { kvm_run } from './structs/kvm-run.js';
import {
  type KvmCpuidEntry2,
  type KvmMsrEntry,
  kvm_cpuid_entry2,
  kvm_cpuid2,
  kvm_msr_list,
  kvm_msrs,
} from './structs/vcpu.js';
import { assertInt, assertU32 } from './validate.js';
import { MAX_CPUID_ENTRIES, msrEntries } from './vcpu.js';
import { VmFd } from './vm.js';

const E2BIG = 7;

/** The KVM system: an open `/dev/kvm`. */
export class Kvm extends KvmFd {
  /** @internal Use {@link Kvm.open}. */
  constructor(fd: number) {
    super(fd);
  }

  /**
   * Opens `/dev/kvm` (or `path`) and asks for its API version, so that a
   * file that is not KVM fails here (a KvmError: `ENOENT`/`EACCES` from open,
   * `ENOTTY` from KVM_GET_API_VERSION).
   */
  static open(path = '/dev/kvm'): Kvm {
    const kvm = new Kvm(wrapSys(() => open(path, O_RDWR)));
    try {
      kvm.getApiVersion();
      return kvm;
    } catch (e) {
      kvm.close();
      throw e;
    }
  }

  /** KVM_GET_API_VERSION: `KVM_API_VERSION` (12) on every kernel since 2.6.22. */
  getApiVersion(): number {
    return this.ioctlInt('KVM_GET_API_VERSION');
  }

  /** KVM_CHECK_EXTENSION: 0 if `cap` is unsupported, otherwise a positive, capability-specific value. */
  checkExtension(cap: Cap): number {
    assertU32(cap, 'cap');
    return this.ioctlInt('KVM_CHECK_EXTENSION', cap);
  }

  /** Whether `cap` is supported. */
  hasExtension(cap: Cap): boolean {
    return this.checkExtension(cap) > 0;
  }

  /** KVM_GET_VCPU_MMAP_SIZE: bytes to map from a vCPU fd (kvm_run and the pages after it). */
  getVcpuMmapSize(): number {
    const size = this.ioctlInt('KVM_GET_VCPU_MMAP_SIZE');
    if (size < kvm_run.size)
      throw new KvmError(
        'KVM_RUN_MMAP_SIZE',
        `KVM_GET_VCPU_MMAP_SIZE returned ${size}, less than sizeof(kvm_run)`,
      );
    return size;
  }

  /** The recommended maximum number of vCPUs per VM (KVM_CAP_NR_VCPUS; 4 when the kernel does not say). */
  getNrVcpus(): number {
    return this.checkExtension(Cap.NrVcpus) || 4;
  }

  /** The maximum number of vCPUs per VM (KVM_CAP_MAX_VCPUS; the recommended number when the kernel does not say). */
  getMaxVcpus(): number {
    return this.checkExtension(Cap.MaxVcpus) || this.getNrVcpus();
  }

  /** The largest vCPU id plus one (KVM_CAP_MAX_VCPU_ID; the maximum vCPU count when the kernel does not say). */
  getMaxVcpuId(): number {
    return this.checkExtension(Cap.MaxVcpuId) || this.getMaxVcpus();
  }

  /** The number of memory slots per VM (KVM_CAP_NR_MEMSLOTS; 32 when the kernel does not say). */
  getNrMemslots(): number {
    return this.checkExtension(Cap.NrMemslots) || 32;
  }

  /** KVM_GET_SUPPORTED_CPUID: the CPUID leaves KVM can give a guest (a starting point for KVM_SET_CPUID2). */
  getSupportedCpuid(maxEntries = MAX_CPUID_ENTRIES): KvmCpuidEntry2[] {
    return this.#cpuid('KVM_GET_SUPPORTED_CPUID', maxEntries);
  }

  /** KVM_GET_EMULATED_CPUID: the CPUID features KVM emulates (possibly slowly) in software. */
  getEmulatedCpuid(maxEntries = MAX_CPUID_ENTRIES): KvmCpuidEntry2[] {
    return this.#cpuid('KVM_GET_EMULATED_CPUID', maxEntries);
  }

  #cpuid(name: 'KVM_GET_SUPPORTED_CPUID' | 'KVM_GET_EMULATED_CPUID', maxEntries: number): KvmCpuidEntry2[] {
    assertInt(maxEntries, 'maxEntries', 1, MAX_CPUID_ENTRIES);
    return this.ioctlList(name, kvm_cpuid2, maxEntries, kvm_cpuid_entry2.size).entries;
  }

  /** KVM_GET_MSR_INDEX_LIST: the MSRs KVM saves and restores for a guest. */
  getMsrIndexList(): number[] {
    return this.#msrList('KVM_GET_MSR_INDEX_LIST');
  }

  /** KVM_GET_MSR_FEATURE_INDEX_LIST: the feature MSRs whose values {@link Kvm.getMsrs} reports. */
  getMsrFeatureIndexList(): number[] {
    return this.#msrList('KVM_GET_MSR_FEATURE_INDEX_LIST');
  }

  /** KVM_GET_MSRS on /dev/kvm: the host's values of feature MSRs (indices from {@link Kvm.getMsrFeatureIndexList}). */
  getMsrs(indices: readonly number[]): KvmMsrEntry[] {
    const buf = kvm_msrs.encode({ entries: msrEntries(indices) });
    const n = this.ioctlPtr('KVM_GET_MSRS', buf);
    return kvm_msrs.decode(buf).entries.slice(0, n);
  }

  /** Asks for the list's length first (the kernel answers E2BIG with the count), then for the list. */
  #msrList(name: 'KVM_GET_MSR_INDEX_LIST' | 'KVM_GET_MSR_FEATURE_INDEX_LIST'): number[] {
    const layout: StructType<{ indices: number[] }> = kvm_msr_list;
    const probe = new Uint32Array(1);
    try {
      this.ioctlPtr(name, probe);
    } catch (e) {
      if ((e as KvmError).errno !== E2BIG) throw e;
    }
    return this.ioctlList(name, layout, probe[0]!, 4).indices;
  }

  /** KVM_CREATE_VM: a new VM of `type` (0 on x86). */
  createVm(type = 0): VmFd {
    assertU32(type, 'type');
    const mmapSize = this.getVcpuMmapSize();
    return new VmFd(this.ioctlInt('KVM_CREATE_VM', type), mmapSize);
  }
}
