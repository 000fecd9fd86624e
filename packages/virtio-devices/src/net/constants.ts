/**
 * virtio-net numbers (virtio 1.2 §5.1; Linux `<linux/virtio_net.h>`) and the
 * TUN/TAP ABI (`<linux/if_tun.h>`, `<linux/if.h>`), in their C spelling. A
 * test compiles the kernel headers and compares every value.
 */
import { ior, iow } from '@tsvmm/vmm-sys-util';

/** The receive queue's index (§5.1.2: receiveq1). */
export const NET_RX_QUEUE = 0;
/** The transmit queue's index (§5.1.2: transmitq1). */
export const NET_TX_QUEUE = 1;
/** Default QueueNumMax of both queues (Linux then posts 256 receive buffers). */
export const NET_QUEUE_MAX_SIZE = 256;

// Feature bits (§5.1.3).
/** The device has a MAC address in its configuration space. */
export const VIRTIO_NET_F_MAC = 5;
/** The configuration space has a link status field. */
export const VIRTIO_NET_F_STATUS = 16;
/** The driver can merge receive buffers (not offered here). */
export const VIRTIO_NET_F_MRG_RXBUF = 15;

/** `status` bit of the configuration space: the link is up. */
export const VIRTIO_NET_S_LINK_UP = 1;

/**
 * `sizeof(struct virtio_net_hdr_v1)`: the header in front of every frame once
 * VIRTIO_F_VERSION_1 is negotiated (§5.1.6), with or without MRG_RXBUF.
 */
export const VIRTIO_NET_HDR_LEN = 12;
/** Offset of `num_buffers` in `struct virtio_net_hdr_v1`. */
export const VIRTIO_NET_HDR_NUM_BUFFERS = 10;

/** An Ethernet header: the shortest frame a TAP device accepts (`ETH_HLEN`). */
export const ETH_HLEN = 14;
/**
 * The longest frame the device sends to the TAP device: 64 KiB of payload and
 * an Ethernet header with a VLAN tag. Without offloads no frame is larger
 * than the link's MTU plus its header, so anything longer is a driver error.
 */
export const NET_MAX_FRAME = 65_536 + ETH_HLEN + 4;
/** The most buffers one `readv`/`writev` takes (`IOV_MAX`, `UIO_MAXIOV`). */
export const IOV_MAX = 1024;

// <linux/if_tun.h>: the ioctls take a pointer to a struct ifreq or an int,
// but their encoded size is that of an int (the kernel's own quirk).
const TUN_IOC_TYPE = 0x54; // 'T'
/** Attaches the file to a TUN/TAP interface, creating it if it does not exist. */
export const TUNSETIFF = iow(TUN_IOC_TYPE, 202, 4);
/** Sets the offloads the kernel may hand the reader (an integer argument). */
export const TUNSETOFFLOAD = iow(TUN_IOC_TYPE, 208, 4);
/** Reads the attached interface's name and flags into a struct ifreq. */
export const TUNGETIFF = ior(TUN_IOC_TYPE, 210, 4);
/** Sets the length of the virtio-net header in front of each frame (a pointer to an int). */
export const TUNSETVNETHDRSZ = iow(TUN_IOC_TYPE, 216, 4);

/** TUNSETIFF flag: an Ethernet (layer 2) interface. */
export const IFF_TAP = 0x0002;
/** TUNSETIFF flag: no `struct tun_pi` in front of frames. */
export const IFF_NO_PI = 0x1000;
/** TUNSETIFF flag: a `struct virtio_net_hdr` in front of frames. */
export const IFF_VNET_HDR = 0x4000;
/** TUNGETIFF flag: the interface outlives its last open file (`ip tuntap add`, TUNSETPERSIST). */
export const IFF_PERSIST = 0x0800;

/** Bytes of an interface name with its terminating NUL (`IFNAMSIZ`). */
export const IFNAMSIZ = 16;
/** `sizeof(struct ifreq)` on 64-bit Linux: the name, then a 24-byte union whose first member is `short ifr_flags`. */
export const IFREQ_SIZE = 40;
/** Offset of `ifr_flags` in `struct ifreq`. */
export const IFREQ_FLAGS = 16;
