/**
 * `VcpuFd`: one virtual CPU. `run()` enters the guest and returns the exit
 * read in place from the vCPU's `kvm_run` page; the other methods get and set
 * its state.
 *
 * `KVM_RUN` blocks for as long as the guest runs: never call `run()` on the
 * thread that runs Node's event loop in a VMM. {@link VcpuThread} runs a vCPU
 * on a worker thread of its own; while it does, this object refuses every
 * ioctl with `VCPU_BUSY` (a vCPU ioctl would wait for the running guest).
 */
import { ioctlRaw, MAP_SHARED, mmap, munmap, PROT_READ, PROT_WRITE } from '@tsvmm/vmm-sys-util';
import { KVM_MAX_XCRS } from './constants.js';
import { KvmError, wrapSys } from './errors.js';
import { type IoctlName, ioctls } from './ioctls.js';
import { KvmFd } from './kvm-fd.js';
import {
  type KvmCpuidEntry2,
  type KvmDebugregs,
  type KvmFpu,
  type KvmGuestDebug,
  type KvmLapicState,
  type KvmMpState,
  type KvmMsrEntry,
  type KvmRegs,
  type KvmSregs,
  type KvmTranslation,
  type KvmVcpuEvents,
  type KvmXcrs,
  type KvmXsave,
  kvm_cpuid_entry2,
  kvm_cpuid2,
  kvm_debugregs,
  kvm_fpu,
  kvm_guest_debug,
  kvm_interrupt,
  kvm_lapic_state,
  kvm_mp_state,
  kvm_msrs,
  kvm_regs,
  kvm_sregs,
  kvm_translation,
  kvm_vcpu_events,
  kvm_xcrs,
  kvm_xsave,
} from './structs/vcpu.js';
import { kvm_enable_cap } from './structs/vm.js';
import { assertInt, assertU32, assertU64 } from './validate.js';
import { KvmRun, type VcpuExit } from './vcpu-exit.js';

const EINTR = 4;
const EAGAIN = 11;
const KVM_RUN = ioctls.KVM_RUN;
/** KVM_MAX_CPUID_ENTRIES in the kernel: no CPUID table is longer. @internal */
export const MAX_CPUID_ENTRIES = 256;

/** How {@link VcpuFd.fromRawFd} sees a vCPU another object owns. */
export interface VcpuFdOptions {
  /** The vCPU id it was created with. */
  readonly id: number;
  /** The vCPU mmap size (`Kvm.getVcpuMmapSize()`). */
  readonly mmapSize: number;
  /** Whether closing this object closes the descriptor. */
  readonly owned: boolean;
}

let markBusy: (vcpu: VcpuFd, busy: boolean) => void;

let readBusy: (vcpu: VcpuFd) => boolean;

/** Marks a vCPU as run by another thread (or not): while marked, its ioctls throw `VCPU_BUSY`. @internal */
export function setRunningElsewhere(vcpu: VcpuFd, value: boolean): void {
  markBusy(vcpu, value);
}

/** Whether a vCPU is marked as run by another thread. @internal */
export function isRunningElsewhere(vcpu: VcpuFd): boolean {
  return readBusy(vcpu);
}

/** A vCPU file descriptor and its `kvm_run` mapping. */
export class VcpuFd extends KvmFd {
  /** The vCPU id (the APIC id on x86). */
  readonly id: number;
  /** Size of the vCPU fd's mapping (kvm_run, the PIO page, the coalesced MMIO ring). */
  readonly mmapSize: number;
  /** The `kvm_run` page: the exit and the fields set before the next run. */
  readonly kvmRun: KvmRun;
  #runFd: number;
  #busy = false;

  static {
    markBusy = (vcpu, busy) => {
      vcpu.#busy = busy;
    };
    readBusy = (vcpu) => vcpu.#busy;
  }

  /** @internal Use `VmFd.createVcpu` or {@link VcpuFd.fromRawFd}. */
  constructor(fd: number, options: VcpuFdOptions) {
    super(fd, options.owned);
    this.id = options.id;
    this.mmapSize = options.mmapSize;
    const buffer = wrapSys(() =>
      mmap(options.mmapSize, { fd, prot: PROT_READ | PROT_WRITE, flags: MAP_SHARED }),
    );
    this.kvmRun = new KvmRun(buffer);
    this.#runFd = fd;
  }

  /**
   * A view of a vCPU descriptor owned elsewhere in this process, with its own
   * mapping of `kvm_run`: how a worker thread runs a vCPU the main thread
   * created (file descriptors are process-wide). Closing it unmaps only.
   */
  static fromRawFd(fd: number, options: { id: number; mmapSize: number; owned?: boolean }): VcpuFd {
    assertU32(fd, 'fd');
    assertU32(options.id, 'id');
    assertInt(options.mmapSize, 'mmapSize', 1, 2 ** 31);
    return new VcpuFd(fd, { id: options.id, mmapSize: options.mmapSize, owned: options.owned ?? false });
  }

  /**
   * Enters the guest until it exits to user space (`KVM_RUN`). Blocks the
   * calling thread. Returns `Intr` when interrupted by a signal or by
   * `immediate_exit`; throws a KvmError for any other failure. An application
   * processor that leaves wait-for-SIPI makes `KVM_RUN` return EAGAIN with no
   * exit to report: it is entered again.
   */
  run(): VcpuExit {
    if (this.#busy) throw busyError('KVM_RUN');
    for (;;) {
      const r = ioctlRaw(this.#runFd, KVM_RUN, 0);
      if (r >= 0) return this.kvmRun.decode();
      if (r === -EINTR) return this.kvmRun.intr();
      if (r !== -EAGAIN) throw KvmError.ioctl('KVM_RUN', -r);
    }
  }

  /** Sets `kvm_run.immediate_exit` (safe from any thread): while set, `KVM_RUN` returns at once. */
  setImmediateExit(value: boolean): void {
    this.kvmRun.immediateExit = value;
  }

  /** Unmaps `kvm_run` and closes the descriptor (if owned). Refused while a thread runs the vCPU. */
  override close(): void {
    if (this.closed) return;
    if (this.#busy) throw busyError('close');
    this.#runFd = -1;
    munmap(this.kvmRun.buffer);
    super.close();
  }

  protected override checkUsable(name: IoctlName): void {
    if (this.#busy) throw busyError(name);
  }

  /** KVM_GET_REGS */
  getRegs(): KvmRegs {
    return this.ioctlRead('KVM_GET_REGS', kvm_regs);
  }
  /** KVM_SET_REGS */
  setRegs(regs: KvmRegs): void {
    this.ioctlWrite('KVM_SET_REGS', kvm_regs, regs);
  }
  /** KVM_GET_SREGS */
  getSregs(): KvmSregs {
    return this.ioctlRead('KVM_GET_SREGS', kvm_sregs);
  }
  /** KVM_SET_SREGS */
  setSregs(sregs: KvmSregs): void {
    this.ioctlWrite('KVM_SET_SREGS', kvm_sregs, sregs);
  }
  /** KVM_GET_FPU */
  getFpu(): KvmFpu {
    return this.ioctlRead('KVM_GET_FPU', kvm_fpu);
  }
  /** KVM_SET_FPU */
  setFpu(fpu: KvmFpu): void {
    this.ioctlWrite('KVM_SET_FPU', kvm_fpu, fpu);
  }

  /** KVM_GET_CPUID2: the CPUID table set on this vCPU (KVM_SET_CPUID2). */
  getCpuid2(maxEntries = MAX_CPUID_ENTRIES): KvmCpuidEntry2[] {
    assertInt(maxEntries, 'maxEntries', 1, MAX_CPUID_ENTRIES);
    return this.ioctlList('KVM_GET_CPUID2', kvm_cpuid2, maxEntries, kvm_cpuid_entry2.size).entries;
  }
  /** KVM_SET_CPUID2: the CPUID table the guest sees (usually `Kvm.getSupportedCpuid()`, adjusted). */
  setCpuid2(entries: readonly KvmCpuidEntry2[]): void {
    if (!Array.isArray(entries)) throw new TypeError('entries must be an array of kvm_cpuid_entry2');
    if (entries.length > MAX_CPUID_ENTRIES)
      throw new RangeError(`at most ${MAX_CPUID_ENTRIES} CPUID entries, got ${entries.length}`);
    this.ioctlWrite('KVM_SET_CPUID2', kvm_cpuid2, { entries: [...entries] });
  }

  /** KVM_GET_LAPIC: the local APIC's register page (needs an in-kernel irqchip). */
  getLapic(): KvmLapicState {
    return this.ioctlRead('KVM_GET_LAPIC', kvm_lapic_state);
  }
  /** KVM_SET_LAPIC */
  setLapic(lapic: KvmLapicState): void {
    this.ioctlWrite('KVM_SET_LAPIC', kvm_lapic_state, lapic);
  }

  /**
   * KVM_GET_MSRS: reads the MSRs `indices`. Returns the entries read, in
   * order; KVM stops at the first MSR it cannot read, so fewer may come back.
   */
  getMsrs(indices: readonly number[]): KvmMsrEntry[] {
    const entries = msrEntries(indices);
    const buf = kvm_msrs.encode({ entries });
    const n = this.ioctlPtr('KVM_GET_MSRS', buf);
    return kvm_msrs.decode(buf).entries.slice(0, n);
  }
  /** KVM_SET_MSRS: writes MSRs; returns how many were written (KVM stops at the first it refuses). */
  setMsrs(entries: readonly KvmMsrEntry[]): number {
    if (!Array.isArray(entries)) throw new TypeError('entries must be an array of kvm_msr_entry');
    return this.ioctlWrite('KVM_SET_MSRS', kvm_msrs, { entries: [...entries] });
  }

  /** KVM_GET_MP_STATE */
  getMpState(): KvmMpState {
    return this.ioctlRead('KVM_GET_MP_STATE', kvm_mp_state);
  }
  /** KVM_SET_MP_STATE */
  setMpState(state: KvmMpState): void {
    this.ioctlWrite('KVM_SET_MP_STATE', kvm_mp_state, state);
  }

  /** KVM_GET_XSAVE (the 4 KiB legacy area). */
  getXsave(): KvmXsave {
    return this.ioctlRead('KVM_GET_XSAVE', kvm_xsave);
  }
  /** KVM_SET_XSAVE */
  setXsave(xsave: KvmXsave): void {
    this.ioctlWrite('KVM_SET_XSAVE', kvm_xsave, xsave);
  }
  /** KVM_GET_XCRS */
  getXcrs(): KvmXcrs {
    return this.ioctlRead('KVM_GET_XCRS', kvm_xcrs);
  }
  /** KVM_SET_XCRS (at most {@link KVM_MAX_XCRS} registers). */
  setXcrs(xcrs: KvmXcrs): void {
    if (Array.isArray(xcrs?.xcrs) && xcrs.xcrs.length > KVM_MAX_XCRS)
      throw new RangeError(`at most ${KVM_MAX_XCRS} XCRs, got ${xcrs.xcrs.length}`);
    this.ioctlWrite('KVM_SET_XCRS', kvm_xcrs, xcrs);
  }
  /** KVM_GET_DEBUGREGS */
  getDebugRegs(): KvmDebugregs {
    return this.ioctlRead('KVM_GET_DEBUGREGS', kvm_debugregs);
  }
  /** KVM_SET_DEBUGREGS */
  setDebugRegs(regs: KvmDebugregs): void {
    this.ioctlWrite('KVM_SET_DEBUGREGS', kvm_debugregs, regs);
  }
  /** KVM_GET_VCPU_EVENTS */
  getVcpuEvents(): KvmVcpuEvents {
    return this.ioctlRead('KVM_GET_VCPU_EVENTS', kvm_vcpu_events);
  }
  /** KVM_SET_VCPU_EVENTS */
  setVcpuEvents(events: KvmVcpuEvents): void {
    this.ioctlWrite('KVM_SET_VCPU_EVENTS', kvm_vcpu_events, events);
  }
  /** KVM_SET_GUEST_DEBUG: single-stepping and breakpoints (`KVM_GUESTDBG_*`), reported as Debug exits. */
  setGuestDebug(debug: KvmGuestDebug): void {
    this.ioctlWrite('KVM_SET_GUEST_DEBUG', kvm_guest_debug, debug);
  }

  /** KVM_GET_TSC_KHZ: the guest's TSC frequency in kHz. */
  getTscKhz(): number {
    return this.ioctlInt('KVM_GET_TSC_KHZ');
  }
  /** KVM_SET_TSC_KHZ (needs KVM_CAP_TSC_CONTROL). */
  setTscKhz(khz: number): void {
    assertInt(khz, 'khz', 1, 0xffff_ffff);
    this.ioctlInt('KVM_SET_TSC_KHZ', khz);
  }

  /** KVM_TRANSLATE: walks the guest's page tables for a guest-virtual address. */
  translate(linearAddress: bigint): KvmTranslation {
    assertU64(linearAddress, 'linearAddress');
    return this.ioctlRead('KVM_TRANSLATE', kvm_translation, {
      linear_address: linearAddress,
      physical_address: 0n,
      valid: 0,
      writeable: 0,
      usermode: 0,
    });
  }

  /** KVM_NMI: queues a non-maskable interrupt. */
  nmi(): void {
    this.ioctlInt('KVM_NMI');
  }

  /** KVM_INTERRUPT: queues an external interrupt vector (only without an in-kernel irqchip). */
  interrupt(vector: number): void {
    assertInt(vector, 'vector', 0, 255);
    this.ioctlWrite('KVM_INTERRUPT', kvm_interrupt, { irq: vector });
  }

  /** KVM_ENABLE_CAP on the vCPU. */
  enableCap(cap: number, args: readonly bigint[] = [], flags = 0): void {
    this.ioctlWrite('KVM_ENABLE_CAP', kvm_enable_cap, enableCapValue(cap, args, flags));
  }
}

/** The error for using a vCPU that a VcpuThread runs. @internal */
export function busyError(what: string): KvmError {
  return new KvmError('VCPU_BUSY', `${what}: the vCPU is being run by a VcpuThread; stop it first`);
}

/** `kvm_msr_entry`s for reading the MSRs `indices`. @internal */
export function msrEntries(indices: readonly number[]): KvmMsrEntry[] {
  if (!Array.isArray(indices)) throw new TypeError('indices must be an array of MSR numbers');
  return indices.map((index, i) => {
    assertU32(index, `indices[${i}]`);
    return { index, data: 0n };
  });
}

/** The `kvm_enable_cap` value for a capability, its arguments (up to 4) and flags. @internal */
export function enableCapValue(cap: number, args: readonly bigint[], flags: number) {
  assertU32(cap, 'cap');
  assertU32(flags, 'flags');
  if (!Array.isArray(args) || args.length > 4)
    throw new RangeError('args must be an array of at most 4 bigints');
  const padded = [...args, 0n, 0n, 0n, 0n].slice(0, 4);
  return { cap, flags, args: padded };
}
