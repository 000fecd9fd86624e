/**
 * The numbers and layouts virtio-net and the TAP backend use, checked
 * against the kernel's own headers (`<linux/virtio_net.h>`, `<linux/if_tun.h>`,
 * `<linux/if.h>`) compiled with the C compiler, not against a second copy.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VIRTIO_ID_NET } from '../../src/constants.js';
import { VIRTIO_NET_CONFIG } from '../../src/net/config-space.js';
import * as net from '../../src/net/constants.js';

/** C expressions for each value of `net` that the headers define, by this package's name. */
const C_VALUES: Record<string, string> = {
  VIRTIO_NET_F_MAC: 'VIRTIO_NET_F_MAC',
  VIRTIO_NET_F_STATUS: 'VIRTIO_NET_F_STATUS',
  VIRTIO_NET_F_MRG_RXBUF: 'VIRTIO_NET_F_MRG_RXBUF',
  VIRTIO_NET_S_LINK_UP: 'VIRTIO_NET_S_LINK_UP',
  VIRTIO_NET_HDR_LEN: 'sizeof(struct virtio_net_hdr_v1)',
  VIRTIO_NET_HDR_NUM_BUFFERS: 'offsetof(struct virtio_net_hdr_v1, num_buffers)',
  ETH_HLEN: 'ETH_HLEN',
  IOV_MAX: 'IOV_MAX',
  TUNSETIFF: 'TUNSETIFF',
  TUNSETOFFLOAD: 'TUNSETOFFLOAD',
  TUNGETIFF: 'TUNGETIFF',
  TUNSETVNETHDRSZ: 'TUNSETVNETHDRSZ',
  IFF_TAP: 'IFF_TAP',
  IFF_NO_PI: 'IFF_NO_PI',
  IFF_VNET_HDR: 'IFF_VNET_HDR',
  IFF_PERSIST: 'IFF_PERSIST',
  IFNAMSIZ: 'IFNAMSIZ',
  IFREQ_SIZE: 'sizeof(struct ifreq)',
  IFREQ_FLAGS: 'offsetof(struct ifreq, ifr_flags)',
};
const CONFIG_FIELDS = ['mac', 'status', 'max_virtqueue_pairs', 'mtu'] as const;

function fromKernelHeaders(): Record<string, number> {
  const dir = mkdtempSync(join(tmpdir(), 'tsvmm-net-layout-'));
  try {
    const values = [
      ...Object.entries(C_VALUES),
      ...CONFIG_FIELDS.map((f) => [`config.${f}`, `offsetof(struct virtio_net_config, ${f})`]),
      ['VIRTIO_ID_NET', 'VIRTIO_ID_NET'],
    ];
    writeFileSync(
      join(dir, 'layout.c'),
      `#define _GNU_SOURCE
       #include <limits.h>
       #include <stddef.h>
       #include <stdio.h>
       #include <sys/ioctl.h>
       #include <sys/socket.h>
       #include <linux/if.h>
       #include <linux/if_ether.h>
       #include <linux/if_tun.h>
       #include <linux/virtio_ids.h>
       #include <linux/virtio_net.h>
       int main(void) {
         ${values.map(([k, v]) => `printf("%s %lu\\n", "${k}", (unsigned long)(${v}));`).join('\n')}
         return 0;
       }\n`,
    );
    execFileSync('cc', ['-o', join(dir, 'layout'), join(dir, 'layout.c')]);
    const out = execFileSync(join(dir, 'layout'), { encoding: 'utf8' }).trim();
    return Object.fromEntries(
      out.split('\n').map((line) => [line.split(' ')[0]!, Number(line.split(' ')[1])]),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('virtio-net and TUN/TAP match the kernel headers', () => {
  const c = fromKernelHeaders();

  it('every feature bit, ioctl number, flag and size', () => {
    const exported = net as unknown as Record<string, number>;
    for (const name of Object.keys(C_VALUES)) expect(exported[name], name).toBe(c[name]);
    expect(VIRTIO_ID_NET).toBe(c.VIRTIO_ID_NET);
  });

  it('struct virtio_net_config: each offset; the space ends after status', () => {
    for (const f of CONFIG_FIELDS) expect(VIRTIO_NET_CONFIG[f], f).toBe(c[`config.${f}`]);
    expect(VIRTIO_NET_CONFIG.size).toBe(c['config.max_virtqueue_pairs']);
  });
});
