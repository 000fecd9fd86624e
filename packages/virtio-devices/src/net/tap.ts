/**
 * A TAP device (`/dev/net/tun`, Documentation/networking/tuntap.rst) as the
 * backend of virtio-net: an Ethernet interface on the host whose frames this
 * process reads and writes, each one behind a 12-byte virtio-net header
 * (IFF_VNET_HDR with TUNSETVNETHDRSZ = 12, the `virtio_net_hdr_v1` of
 * VIRTIO_F_VERSION_1), non-blocking, with every offload off (TUNSETOFFLOAD 0):
 * the kernel then hands over only whole, checksummed frames no longer than the
 * interface's MTU plus its Ethernet header.
 */
import { readvSync, writevSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import {
  close,
  FileDescriptor,
  ioctl,
  ioctlBuffer,
  O_NONBLOCK,
  O_RDWR,
  open,
  SysError,
} from '@tsvmm/vmm-sys-util';
import { VirtioDevicesError } from '../errors.js';
import {
  IFF_NO_PI,
  IFF_PERSIST,
  IFF_TAP,
  IFF_VNET_HDR,
  IFNAMSIZ,
  IFREQ_FLAGS,
  IFREQ_SIZE,
  TUNGETIFF,
  TUNSETIFF,
  TUNSETOFFLOAD,
  TUNSETVNETHDRSZ,
  VIRTIO_NET_HDR_LEN,
} from './constants.js';

const { EAGAIN, EBUSY, EINVAL, ENODEV, EPERM } = osConstants.errno;

/** How {@link Tap.open} treats a name that no interface has yet. */
export interface TapOpenOptions {
  /**
   * Create the TAP device if this network namespace has no interface of that
   * name (default false: a missing device is an `ENODEV` error). A created
   * device lives as long as it is open, down and without addresses until the
   * host configures it (`ip addr add`, `ip link set up`); a device made
   * beforehand with `ip tuntap add mode tap` outlives the VMM.
   */
  readonly create?: boolean;
}

/**
 * Checks an interface name the way the kernel's `dev_valid_name()` does, and
 * refuses `%` (the kernel would take it as a template and pick another name).
 * @throws TypeError if `name` is not a string; RangeError if the kernel would refuse it.
 */
export function checkInterfaceName(name: unknown): asserts name is string {
  if (typeof name !== 'string') throw new TypeError(`an interface name must be a string, got ${typeof name}`);
  const bytes = Buffer.byteLength(name);
  if (bytes === 0 || bytes >= IFNAMSIZ)
    throw new RangeError(`interface name ${JSON.stringify(name)} must be 1 to ${IFNAMSIZ - 1} bytes long`);
  if (name === '.' || name === '..' || /[\s/:%\0]/.test(name))
    throw new RangeError(
      `interface name ${JSON.stringify(name)} is not valid (no "/", ":", "%", white space; not "." or "..")`,
    );
}

/**
 * What a failed TAP operation throws: a VirtioDevicesError whose `cause` is
 * the SysError (a Node `fs` error becomes one, named `syscall`).
 */
function tapError(code: 'BACKEND_OPEN' | 'BACKEND_IO', what: string, err: unknown, syscall = ''): unknown {
  let sys = err;
  const errno = (err as NodeJS.ErrnoException | undefined)?.errno;
  if (!(err instanceof SysError) && typeof errno === 'number')
    sys = new SysError(-errno, syscall, undefined, { cause: err });
  if (!(sys instanceof SysError)) return err;
  return new VirtioDevicesError(code, `${what}: ${sys.message}`, { cause: sys });
}

/** Whether `err` is a Node system error with `EAGAIN` (the non-blocking file has nothing to give or take now). */
function isEagain(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.errno === -EAGAIN;
}

/** Why TUNSETIFF failed, in words a user can act on. */
function tunsetiffDetail(errno: number, name: string): string {
  switch (errno) {
    case EPERM:
      return `attaching TAP ${name} needs CAP_NET_ADMIN, or to be the owner or group the TAP was made for`;
    case EBUSY:
      return `TAP ${name} is in use: another open file is attached to it (a TAP without multi_queue takes one)`;
    case EINVAL:
      return `${name} exists but is not a single-queue TAP device (it is a TUN, a multi_queue TAP or another kind of interface)`;
    default:
      return `attaching TAP ${name}`;
  }
}

/** A TAP device attached to an open file of this process; see the module comment. */
export class Tap implements Disposable {
  /** The interface's name in the network namespace it was opened in. */
  readonly name: string;
  readonly #file: FileDescriptor;

  /**
   * Adopts an open, configured TAP file (from {@link Tap.open}, e.g. on the
   * main thread, while the device runs on the I/O thread; descriptors are
   * process-wide). The Tap owns it from now on.
   * @throws TypeError/RangeError for a bad descriptor or name.
   */
  constructor(fd: number, name: string) {
    checkInterfaceName(name);
    this.#file = new FileDescriptor(fd);
    this.name = name;
  }

  /**
   * Opens `/dev/net/tun` and attaches it to the TAP interface `name` of the
   * calling process's network namespace (creating it if `options.create`),
   * with IFF_NO_PI | IFF_VNET_HDR, a 12-byte header, no offloads, non-blocking.
   * @throws TypeError/RangeError for a bad name; VirtioDevicesError
   *   `BACKEND_OPEN` whose `cause` is a SysError: `ENODEV` (syscall
   *   `ioctl(TUNSETIFF)`) if there is no such interface and `create` is not
   *   set; `EPERM`, `EBUSY` or `EINVAL` from TUNSETIFF, the reason in the
   *   message; or the error of opening `/dev/net/tun` (`ENOENT` without the
   *   tun driver, `EACCES`).
   */
  static open(name: string, options: TapOpenOptions = {}): Tap {
    checkInterfaceName(name);
    const create = options.create ?? false;
    if (typeof create !== 'boolean') throw new TypeError('options.create must be a boolean');
    const what = `cannot open TAP ${name}`;
    let fd: number;
    try {
      fd = open('/dev/net/tun', O_RDWR | O_NONBLOCK);
    } catch (err) {
      throw tapError('BACKEND_OPEN', what, err);
    }
    try {
      const ifreq = new Uint8Array(IFREQ_SIZE);
      const view = new DataView(ifreq.buffer);
      Buffer.from(ifreq.buffer).write(name, 0, 'utf8');
      view.setUint16(IFREQ_FLAGS, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, true);
      try {
        ioctlBuffer(fd, TUNSETIFF, ifreq, 'TUNSETIFF');
      } catch (err) {
        if (!(err instanceof SysError)) throw err;
        throw new SysError(err.errno, err.syscall, tunsetiffDetail(err.errno, name), { cause: err });
      }
      // TUNSETIFF creates a missing interface; it is not persistent then,
      // while an existing TAP that a second file can attach to always is
      // (a non-persistent one goes away with its only file). So a TAP that
      // is not persistent now was created by this call.
      ifreq.fill(0);
      ioctlBuffer(fd, TUNGETIFF, ifreq, 'TUNGETIFF');
      if (!create && (view.getUint16(IFREQ_FLAGS, true) & IFF_PERSIST) === 0) {
        throw new SysError(
          ENODEV,
          'ioctl(TUNSETIFF)',
          `no TAP device named ${name} in this network namespace (make one with \`ip tuntap add dev ${name} mode tap\`, or open it with create: true)`,
        );
      }
      ioctlBuffer(fd, TUNSETVNETHDRSZ, Int32Array.of(VIRTIO_NET_HDR_LEN), 'TUNSETVNETHDRSZ');
      ioctl(fd, TUNSETOFFLOAD, 0, 'TUNSETOFFLOAD');
      return new Tap(fd, name);
    } catch (err) {
      close(fd);
      throw tapError('BACKEND_OPEN', what, err);
    }
  }

  /** The TAP file's descriptor (to wait on with epoll); throws `EBADF` once closed. */
  get fd(): number {
    return this.#file.fd;
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#file.closed;
  }

  /**
   * Reads the next frame, its 12-byte header first, into `buffers` in order
   * (`readv`). Returns its length with the header, or undefined when no
   * frame is queued. A frame longer than the buffers is cut short and the
   * rest dropped by the kernel, which then returns the full length on some
   * kernel versions and the length that fit on others: to tell, end the
   * buffers with a spare byte.
   * @throws VirtioDevicesError `BACKEND_IO` when the TAP fails, its `cause`
   *   the SysError (syscall `readv`): `EBADFD` once its interface was deleted.
   */
  read(buffers: readonly Uint8Array[]): number | undefined {
    try {
      return readvSync(this.fd, buffers);
    } catch (err) {
      if (isEagain(err)) return undefined;
      throw tapError('BACKEND_IO', `reading a frame from TAP ${this.name}`, err, 'readv');
    }
  }

  /**
   * Writes one frame, its 12-byte header first, gathered from `buffers`
   * (`writev`: the kernel takes all of it or none). Returns the bytes
   * written, or undefined when the kernel cannot take the frame now (retry
   * when the descriptor is writable).
   * @throws VirtioDevicesError `BACKEND_IO`, its `cause` the SysError
   *   (syscall `writev`): `EIO` while the interface is down, `EINVAL` for a
   *   frame shorter than an Ethernet header, `EBADFD` once the interface was
   *   deleted, and so on.
   */
  write(buffers: readonly Uint8Array[]): number | undefined {
    try {
      return writevSync(this.fd, buffers);
    } catch (err) {
      if (isEagain(err)) return undefined;
      throw tapError('BACKEND_IO', `writing a frame to TAP ${this.name}`, err, 'writev');
    }
  }

  /** Closes the file; a TAP this process created goes away with it. Idempotent. */
  close(): void {
    this.#file.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
