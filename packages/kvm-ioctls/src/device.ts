/**
 * `DeviceFd`: an in-kernel device made by KVM_CREATE_DEVICE (VFIO, and on
 * other architectures interrupt controllers), configured through attributes.
 */
import { addressOf } from '@tsvmm/vmm-sys-util';
import { KvmFd } from './kvm-fd.js';
import { kvm_device_attr } from './structs/vm.js';
import { assertU32, assertU64 } from './validate.js';

/** A device attribute: its group, its id in the group, and the bytes that carry its value. */
export interface DeviceAttr {
  /** The attribute group (device-defined, e.g. `KVM_DEV_VFIO_GROUP`). */
  readonly group: number;
  /** The attribute in the group. */
  readonly attr: bigint;
  /** The value's bytes: read by SET, filled by GET. Absent for attributes without data. */
  readonly data?: ArrayBufferView;
  /** `kvm_device_attr.flags` (none are defined yet). */
  readonly flags?: number;
}

/** A KVM device file descriptor. */
export class DeviceFd extends KvmFd {
  /** @internal Use `VmFd.createDevice`. */
  constructor(fd: number) {
    super(fd);
  }

  /** KVM_SET_DEVICE_ATTR: sets an attribute from `data`. */
  setDeviceAttr(attr: DeviceAttr): void {
    this.ioctlWrite('KVM_SET_DEVICE_ATTR', kvm_device_attr, attrValue(attr));
  }

  /** KVM_GET_DEVICE_ATTR: reads an attribute into `data`. */
  getDeviceAttr(attr: DeviceAttr): void {
    this.ioctlWrite('KVM_GET_DEVICE_ATTR', kvm_device_attr, attrValue(attr));
  }

  /** KVM_HAS_DEVICE_ATTR: whether the device supports an attribute. */
  hasDeviceAttr(attr: Pick<DeviceAttr, 'group' | 'attr'>): boolean {
    try {
      this.ioctlWrite('KVM_HAS_DEVICE_ATTR', kvm_device_attr, attrValue(attr));
      return true;
    } catch (e) {
      if ((e as { code?: string }).code === 'ENXIO') return false;
      throw e;
    }
  }
}

function attrValue(attr: DeviceAttr) {
  if (typeof attr !== 'object' || attr === null) throw new TypeError('attr must be a DeviceAttr');
  assertU32(attr.group, 'attr.group');
  assertU64(attr.attr, 'attr.attr');
  const flags = attr.flags ?? 0;
  assertU32(flags, 'attr.flags');
  if (attr.data !== undefined && !ArrayBuffer.isView(attr.data))
    throw new TypeError('attr.data must be an ArrayBufferView');
  const addr = attr.data === undefined || attr.data.byteLength === 0 ? 0n : addressOf(attr.data);
  return { flags, group: attr.group, attr: attr.attr, addr };
}
