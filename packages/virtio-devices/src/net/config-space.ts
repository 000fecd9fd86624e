/**
 * The virtio-net configuration space, `struct virtio_net_config` (virtio 1.2
 * §5.1.4), as far as the features this device offers reach: the MAC address
 * (VIRTIO_NET_F_MAC) and the link status (VIRTIO_NET_F_STATUS).
 */
import { VIRTIO_NET_S_LINK_UP } from './constants.js';

/**
 * Byte offsets of `struct virtio_net_config`; a test checks each against
 * `offsetof` from the kernel's `<linux/virtio_net.h>`. The fields after
 * `status` belong to features not offered (MQ, MTU, SPEED_DUPLEX, RSS) and
 * are not part of the space.
 */
export const VIRTIO_NET_CONFIG = {
  mac: 0,
  status: 6,
  max_virtqueue_pairs: 8,
  mtu: 10,
  /** The length of the space this device shows: `mac` and `status`. */
  size: 8,
} as const;

/** Encodes the configuration space: {@link VIRTIO_NET_CONFIG.size} bytes. @throws RangeError unless `mac` has 6 bytes. */
export function encodeNetConfig(mac: Uint8Array, linkUp: boolean): Uint8Array {
  if (mac.length !== 6) throw new RangeError(`a MAC address has 6 bytes, got ${mac.length}`);
  const bytes = new Uint8Array(VIRTIO_NET_CONFIG.size);
  bytes.set(mac, VIRTIO_NET_CONFIG.mac);
  new DataView(bytes.buffer).setUint16(VIRTIO_NET_CONFIG.status, linkUp ? VIRTIO_NET_S_LINK_UP : 0, true);
  return bytes;
}
