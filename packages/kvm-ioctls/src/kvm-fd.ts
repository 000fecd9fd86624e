/**
 * What `Kvm`, `VmFd`, `VcpuFd` and `DeviceFd` share: an owned file descriptor
 * that is closed once, and ioctls on it that fail with a {@link KvmError}
 * naming the request.
 */
import { close, ioctl, ioctlBuffer, SysError } from '@tsvmm/vmm-sys-util';
import { KvmError } from './errors.js';
import { type IoctlName, ioctls } from './ioctls.js';
import type { StructType } from './layout.js';

const EBADF = 9;

/** A KVM file descriptor (system, VM, vCPU or device). Closed by {@link KvmFd.close} or `using`. */
export abstract class KvmFd implements Disposable {
  #fd: number;
  readonly #owned: boolean;

  /**
   * @param fd - the descriptor
   * @param owned - whether closing this object closes the descriptor (false for a view of a
   *   descriptor another object owns, e.g. a vCPU seen from its worker thread)
   */
  protected constructor(fd: number, owned = true) {
    this.#fd = fd;
    this.#owned = owned;
  }

  /** The raw descriptor. Throws a KvmError `EBADF` once closed. */
  get fd(): number {
    if (this.#fd < 0) throw new KvmError('EBADF', 'the file descriptor was closed', { errno: EBADF });
    return this.#fd;
  }

  /** Whether {@link KvmFd.close} was called. */
  get closed(): boolean {
    return this.#fd < 0;
  }

  /** Closes the descriptor (if owned); later calls do nothing. */
  close(): void {
    if (this.#fd < 0) return;
    const fd = this.#fd;
    this.#fd = -1;
    if (this.#owned) {
      try {
        close(fd);
      } catch (e) {
        if (e instanceof SysError) throw KvmError.fromSysError(e);
        throw e;
      }
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** Called before every ioctl; a subclass throws here to refuse one (e.g. a vCPU another thread runs). */
  protected checkUsable(_name: IoctlName): void {}

  /** The raw descriptor for ioctl `name`: a KvmError `EBADF` naming it when closed. */
  protected fdFor(name: IoctlName): number {
    if (this.#fd < 0) throw KvmError.ioctl(name, EBADF);
    this.checkUsable(name);
    return this.#fd;
  }

  /** `ioctl(fd, name, arg)` with an integer argument; returns the ioctl's result. */
  protected ioctlInt(name: IoctlName, arg: number | bigint = 0): number {
    const fd = this.fdFor(name);
    try {
      return ioctl(fd, ioctls[name], arg, name);
    } catch (e) {
      throw rethrow(e, name);
    }
  }

  /** `ioctl(fd, name, &buf)`; returns the ioctl's result. */
  protected ioctlPtr(name: IoctlName, buf: ArrayBufferView | ArrayBuffer): number {
    const fd = this.fdFor(name);
    try {
      return ioctlBuffer(fd, ioctls[name], buf, name);
    } catch (e) {
      throw rethrow(e, name);
    }
  }

  /** Passes `value` encoded as `layout` to ioctl `name`; returns the ioctl's result. */
  protected ioctlWrite<T>(name: IoctlName, layout: StructType<T>, value: T): number {
    const buf = layout.encode(value);
    return this.ioctlPtr(name, buf);
  }

  /**
   * Calls ioctl `name` on a `layout` whose counted array has room for
   * `capacity` elements of `elementSize` bytes (the count member says so), and
   * decodes what the kernel wrote: for the `KVM_GET_*_CPUID` and list ioctls.
   */
  protected ioctlList<T>(name: IoctlName, layout: StructType<T>, capacity: number, elementSize: number): T {
    const buf = new Uint8Array(layout.size + capacity * elementSize);
    new DataView(buf.buffer).setUint32(0, capacity, true); // the count is the first member of every such struct
    this.ioctlPtr(name, buf);
    return layout.decode(buf);
  }

  /** Calls ioctl `name` on a zeroed `layout`-sized buffer (or on `value`) and decodes what the kernel wrote. */
  protected ioctlRead<T>(name: IoctlName, layout: StructType<T>, value?: T): T {
    const buf = value === undefined ? new Uint8Array(layout.size) : layout.encode(value);
    this.ioctlPtr(name, buf);
    return layout.decode(buf);
  }
}

function rethrow(e: unknown, name: string): unknown {
  return e instanceof SysError ? KvmError.ioctl(name, e.errno, e) : e;
}
