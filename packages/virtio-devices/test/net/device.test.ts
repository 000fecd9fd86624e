/**
 * The network device against a real TAP device in a network namespace that
 * the test makes: the guest side is a MockSplitQueue driver, the host side
 * is the namespace's own kernel (which answers pings) and Node processes
 * inside it.
 */

import { VirtioQueueError, type VirtQueue } from '@tsvmm/virtio-queue';
import { EPOLLOUT } from '@tsvmm/vmm-sys-util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { encodeNetConfig } from '../../src/net/config-space.js';
import { NET_MAX_FRAME } from '../../src/net/constants.js';
import { Net, netDeviceInfo } from '../../src/net/device.js';
import { Tap } from '../../src/net/tap.js';
import { echoRequest, parseFrame } from './frames.js';
import {
  type Activated,
  activate,
  FaultyTap,
  GuestNic,
  type Received,
  type TestEventLoop,
} from './harness.js';
import { createNetns, GUEST_IP, ip, nodeIn, PEER_IP, type TestNetns, tapInNetns, tapName } from './netns.js';

const GUEST_MAC = '02:00:00:00:00:02';

let ns: TestNetns;
let tap: Tap;
let peerMac: string;
const activations: Activated[] = [];

beforeAll(() => {
  ({ ns, tap, peerMac } = tapInNetns(GUEST_MAC));
});

afterAll(() => {
  tap?.close();
  ns?.remove();
});

afterEach(() => {
  for (const a of activations.splice(0)) a[Symbol.dispose]();
  // Frames a test left in the TAP (replies it did not wait for) must not reach the next one.
  const sink = [new Uint8Array(65_536)];
  for (let quiet = 0; quiet < 3; ) {
    if (tap.read(sink) === undefined) {
      quiet++;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
  }
});

/** {@link activate}, undone after the test. */
function activated(net: Net, nic: GuestNic, queues?: VirtQueue[]): Activated {
  const a = activate(net, nic, queues);
  activations.push(a);
  return a;
}

/** A device on the shared TAP (or `backend`), activated for a fresh guest driver. */
function setup(options: { eventIdx?: boolean; backend?: Tap } = {}) {
  const logs: string[] = [];
  const net = new Net(options.backend ?? tap, { mac: GUEST_MAC, log: (m) => logs.push(m) });
  const nic = new GuestNic({ eventIdx: options.eventIdx ?? false });
  const { loop, interrupt, config, reset } = activated(net, nic);
  return { net, nic, loop, interrupt, config, logs, reset };
}

const toPeer = () => ({ srcMac: GUEST_MAC, dstMac: peerMac, srcIp: GUEST_IP, dstIp: PEER_IP });
const ping = (seq: number, data = new Uint8Array(32).fill(seq)) => echoRequest(toPeer(), 0x7e57, seq, data);

/** Runs the event loop until `count` frames arrived or `ms` passed; returns them. */
function receive(nic: GuestNic, loop: TestEventLoop, count: number, ms = 3000): Received[] {
  const got: Received[] = [];
  const deadline = Date.now() + ms;
  while (got.length < count && Date.now() < deadline) {
    loop.run(20);
    got.push(...nic.received());
  }
  return got;
}

/** The sequence numbers of the echo replies among `frames`. */
const replySeqs = (frames: Received[]) =>
  frames.map((r) => parseFrame(r.frame)?.icmp).flatMap((icmp) => (icmp?.type === 0 ? [icmp.seq] : []));

/** Sends `count` UDP datagrams from the peer to the guest, each carrying its index. */
async function udpBurst(count: number): Promise<void> {
  await nodeIn(
    ns,
    `const s = require('node:dgram').createSocket('udp4');
     let i = 0;
     const next = () => {
       if (i === ${count}) return s.close();
       const b = Buffer.alloc(64);
       b.writeUInt32BE(i++);
       s.send(b, 5555, '${GUEST_IP}', (e) => { if (e) throw e; next(); });
     };
     next();`,
  );
}
const udpIndexes = (frames: Received[]) =>
  frames.flatMap((r) => {
    const udp = parseFrame(r.frame)?.udp;
    return udp?.dstPort === 5555 ? [new DataView(udp.data.buffer).getUint32(0)] : [];
  });

describe('what the device offers', () => {
  it('MAC, STATUS, VERSION_1, EVENT_IDX and INDIRECT_DESC, with the MAC and link up in its config space', () => {
    const info = netDeviceInfo({ mac: '02:aa:bb:cc:dd:ee' });
    expect(info.deviceType).toBe(1);
    expect(info.queueMaxSizes).toEqual([256, 256]);
    expect(info.availFeatures).toBe((1n << 5n) | (1n << 16n) | (1n << 28n) | (1n << 29n) | (1n << 32n));
    expect([...info.configSpace]).toEqual([0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 1, 0]);
    expect([...encodeNetConfig(Uint8Array.of(2, 0, 0, 0, 0, 9), false)]).toEqual([2, 0, 0, 0, 0, 9, 0, 0]);
    expect(() => encodeNetConfig(new Uint8Array(5), true)).toThrow(RangeError);
    expect(netDeviceInfo({ mac: Uint8Array.of(6, 0, 0, 0, 0, 1), queueSize: 1024 }).queueMaxSizes).toEqual([
      1024, 1024,
    ]);
  });

  it('a random locally administered unicast MAC when none is given', () => {
    const macs = new Set<string>();
    for (let i = 0; i < 64; i++) {
      const net = new Net(tap);
      expect(net.mac).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
      expect(Number.parseInt(net.mac.slice(0, 2), 16) & 3).toBe(2);
      expect([...net.configSpace.subarray(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join(':')).toBe(
        net.mac,
      );
      macs.add(net.mac);
    }
    expect(macs.size).toBe(64);
  });

  it('refuses a bad MAC or queue size before anything is opened', () => {
    expect(() => netDeviceInfo({ mac: '01:00:00:00:00:01' })).toThrow(/multicast/);
    expect(() => netDeviceInfo({ mac: '02:00:00:00:00' })).toThrow(RangeError);
    expect(() => netDeviceInfo({ mac: Uint8Array.of(2, 0, 0) })).toThrow(RangeError);
    expect(() => netDeviceInfo({ mac: 5 as unknown as string })).toThrow(TypeError);
    expect(() => netDeviceInfo({ mac: GUEST_MAC, queueSize: 3 })).toThrow(RangeError);
    expect(() => netDeviceInfo({ mac: GUEST_MAC, queueSize: 65536 })).toThrow(RangeError);
    expect(() => new Net(tap, { mac: 'nonsense' })).toThrow(RangeError);
  });
});

describe('frames both ways through a real TAP', () => {
  it('a ping reaches the namespace, and its reply comes back with a zero header and num_buffers 1', () => {
    const { net, nic, loop, interrupt } = setup();
    nic.postRx(8);
    const data = new TextEncoder().encode('hello from the guest');
    nic.send(ping(1, data));
    net.processQueue(1);
    expect(nic.tx.takeUsed()).toEqual([{ id: 0, len: 0 }]);
    expect(interrupt.used).toEqual([1]);
    const [reply, ...more] = receive(nic, loop, 1);
    expect(more).toEqual([]);
    expect([...reply!.header]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    const parsed = parseFrame(reply!.frame)!;
    expect(parsed).toMatchObject({ srcMac: peerMac, dstMac: GUEST_MAC, srcIp: PEER_IP, dstIp: GUEST_IP });
    expect(parsed.ipChecksumOk).toBe(true);
    expect(parsed.icmp).toMatchObject({ type: 0, id: 0x7e57, seq: 1, checksumOk: true, data });
    expect(interrupt.used).toEqual([1, 0]);
    expect(net.metrics).toMatchObject({
      txFrames: 1,
      txBytes: 14 + 20 + 8 + data.length,
      rxFrames: 1,
      rxBytes: reply!.frame.length,
      interrupts: 2,
    });
  });

  it('chains split anywhere, the header included, and indirect ones, carry the same frames', () => {
    const { net, nic, loop } = setup();
    nic.postRx(2, [100, 400, 1030]); // the header lies in the first piece
    nic.postRx(2, [5, 5, 1, 5, 1514]); // the header spans four pieces
    const frames = [ping(1), ping(2, new Uint8Array(1000).fill(9)), ping(3), ping(4)];
    nic.send(frames[0]!, 3);
    nic.send(frames[1]!, 40);
    nic.tx.addChain(
      [{ data: new Uint8Array(12) }, { data: frames[2]!.subarray(0, 10) }, { data: frames[2]!.subarray(10) }],
      { indirect: true },
    );
    nic.send(frames[3]!, 1);
    net.processQueue(1);
    expect(nic.tx.takeUsed()).toHaveLength(4);
    const got = receive(nic, loop, 4);
    expect(replySeqs(got)).toEqual([1, 2, 3, 4]);
    for (const r of got) expect([...r.header]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    expect(parseFrame(got[1]!.frame)!.icmp!.data).toEqual(new Uint8Array(1000).fill(9));
  });

  it('with EVENT_IDX, interrupts follow used_event and idle queues ask for notifications at avail_event', () => {
    const { net, nic, loop, interrupt } = setup({ eventIdx: true });
    nic.postRx(4);
    nic.tx.setUsedEvent(1); // the driver wants an interrupt once the second frame is used
    nic.send(ping(1));
    net.processQueue(1);
    expect(interrupt.used).toEqual([1]); // the first interrupt is always raised
    nic.send(ping(2));
    net.processQueue(1);
    expect(interrupt.used).toEqual([1, 1]);
    nic.send(ping(3));
    net.processQueue(1);
    expect(interrupt.used).toEqual([1, 1]); // used_event 1 was passed already
    expect(nic.tx.availEvent).toBe(3); // notify me at the next frame
    expect(replySeqs(receive(nic, loop, 3))).toEqual([1, 2, 3]);
    // one receive buffer left: the device has not run out, so it asked for nothing yet
    nic.send(ping(4));
    nic.send(ping(5));
    net.processQueue(1);
    expect(replySeqs(receive(nic, loop, 1))).toEqual([4]);
    expect(nic.rx.availEvent).toBe(4); // out of buffers: notify me when the fifth arrives
    nic.postRx(1);
    net.processQueue(0);
    expect(replySeqs(receive(nic, loop, 1))).toEqual([5]);
  });
});

describe('flow control', () => {
  it('with no receive buffer, frames wait in the TAP; posted buffers take them all, in order, each once', async () => {
    const { net, nic, loop } = setup();
    await udpBurst(40);
    expect(receive(nic, loop, 1, 300)).toEqual([]);
    expect(net.metrics.rxNoBuffers).toBeGreaterThan(0);
    expect(nic.rx.usedFlags).toBe(0); // it asked the driver to notify when buffers come
    nic.postRx(10);
    net.processQueue(0);
    const first = nic.received();
    expect(udpIndexes(first)).toEqual([...Array(10).keys()]);
    nic.postRx(100);
    net.processQueue(0);
    const rest = [...nic.received(), ...receive(nic, loop, 1, 200)];
    expect(udpIndexes(rest)).toEqual([...Array(30).keys()].map((i) => i + 10));
    expect(net.metrics.rxFrames).toBe(40);
    expect(nic.rxOutstanding).toBe(70);
  });

  it('a TAP that cannot take a frame keeps it: written once when the TAP is writable, in order', () => {
    const faulty = new FaultyTap(tap);
    const { net, nic, loop, interrupt } = setup({ backend: faulty });
    nic.postRx(8);
    faulty.faults.push('EAGAIN', 'EAGAIN');
    nic.send(ping(1));
    nic.send(ping(2));
    net.processQueue(1);
    expect(nic.tx.takeUsed()).toEqual([]); // nothing was sent, nothing returned
    expect(net.metrics).toMatchObject({ txWaits: 1, txFrames: 0 });
    expect(interrupt.used).toEqual([]);
    net.processQueue(1); // a notification meanwhile tries again: still full
    expect(nic.tx.takeUsed()).toEqual([]);
    expect(net.metrics.txWaits).toBe(2);
    loop.handlers.get(tap.fd)!(EPOLLOUT); // the TAP drained
    expect(nic.tx.takeUsed().map((u) => u.id)).toEqual([0, 1]);
    expect(faulty.written).toBe(2);
    expect(replySeqs(receive(nic, loop, 2))).toEqual([1, 2]);
    expect(replySeqs(receive(nic, loop, 1, 100))).toEqual([]); // each frame went out once
  });
});

describe('what the driver gets wrong is counted, answered and survived', () => {
  it('short, oversized and over-fragmented transmit chains are returned unsent, each kind logged once', () => {
    const { net, nic, loop, logs } = setup();
    nic.postRx(4);
    nic.tx.addChain([{ data: new Uint8Array(12) }]); // a header, no frame
    nic.tx.addChain([{ data: new Uint8Array(12 + 13) }]); // less than an Ethernet header
    nic.tx.addChain([{ addr: 0x900000n, len: 12 + NET_MAX_FRAME + 1 }]);
    nic.tx.addChain(
      Array.from({ length: 1100 }, () => ({ data: new Uint8Array(4) })),
      { indirect: true },
    );
    nic.tx.writeDescriptor(9, { addr: 0xffff_fff0n, len: 64, flags: 0, next: 0 }); // outside guest memory
    nic.tx.publish(9);
    nic.send(ping(7)); // descriptor 4
    net.processQueue(1);
    expect(nic.tx.takeUsed()).toEqual([0, 1, 2, 3, 9, 4].map((id) => ({ id, len: 0 })));
    expect(net.metrics.faults).toMatchObject({
      TX_TOO_SHORT: 2,
      TX_TOO_LONG: 1,
      TX_TOO_MANY_BUFFERS: 1,
      MALFORMED_CHAIN: 1,
    });
    expect(net.metrics.txFrames).toBe(1);
    expect(logs).toHaveLength(4);
    expect(logs[0]).toMatch(
      /^virtio-net tsv\d+n\d+: TX_TOO_SHORT \(a 0-byte frame\); further ones are only counted$/,
    );
    expect(replySeqs(receive(nic, loop, 1))).toEqual([7]);
  });

  it('receive chains too short or in too many pieces are returned empty; the next good one takes the frame', () => {
    const { net, nic, loop } = setup();
    nic.rx.addChain([{ len: 11, write: true }]); // descriptor 0
    nic.rx.addChain(
      Array.from({ length: 1100 }, () => ({ len: 2, write: true })),
      { indirect: true },
    ); // 1
    nic.rx.addChain([{ data: new Uint8Array(40) }, { len: 8, write: true }]); // 2, 3: the readable part does not count
    nic.postRx(1); // 4
    nic.send(ping(1));
    net.processQueue(1);
    const used: Array<{ id: number; len: number }> = [];
    for (let i = 0; i < 100 && used.length < 4; i++) {
      loop.run(20);
      used.push(...nic.rx.takeUsed());
    }
    expect(used.slice(0, 3)).toEqual([0, 1, 2].map((id) => ({ id, len: 0 })));
    expect(used[3]).toMatchObject({ id: 4 });
    expect(net.metrics.faults).toMatchObject({ RX_CHAIN_TOO_SHORT: 2, RX_TOO_MANY_BUFFERS: 1 });
    expect(net.metrics.rxFrames).toBe(1);
  });

  it('a frame longer than the receive buffers is dropped and counted; the chain takes the next frame', () => {
    const { net, nic, loop } = setup();
    ns.exec('ip', 'link', 'set', tap.name, 'mtu', '9000');
    try {
      nic.postRx(1);
      nic.send(ping(1, new Uint8Array(3000)));
      net.processQueue(1);
      expect(receive(nic, loop, 1, 300)).toEqual([]);
      expect(net.metrics.faults.RX_FRAME_TOO_LONG).toBe(1);
      nic.send(ping(2));
      net.processQueue(1);
      const [reply] = receive(nic, loop, 1);
      expect(reply!.head).toBe(0);
      expect(replySeqs([reply!])).toEqual([2]);
    } finally {
      ns.exec('ip', 'link', 'set', tap.name, 'mtu', '1500');
    }
  });

  it('an available index more than a queue ahead makes the ring unusable: processQueue throws for NEEDS_RESET', () => {
    const { net, nic } = setup();
    nic.tx.setAvailIdx(300);
    expect(() => net.processQueue(1)).toThrow(VirtioQueueError);
    nic.rx.setAvailIdx(300);
    try {
      net.processQueue(0);
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: 'INVALID_AVAIL_IDX' });
    }
  });

  it('a queue the driver did not set ready is left alone; the other one works', () => {
    const net = new Net(tap, { mac: GUEST_MAC });
    const nic = new GuestNic();
    const rx = nic.rx.createQueue();
    rx.setReady(false);
    const { loop } = activated(net, nic, [rx, nic.tx.createQueue()]);
    nic.postRx(1);
    nic.send(ping(1));
    net.processQueue(1);
    net.processQueue(0);
    loop.run(50);
    expect(nic.tx.takeUsed()).toHaveLength(1);
    expect(nic.rx.takeUsed()).toEqual([]);
    expect(net.metrics.rxFrames).toBe(0);
  });
});

describe('the TAP on the host side', () => {
  it('while its interface is down, frames are dropped like on an unplugged cable, and counted', () => {
    const { net, nic, loop } = setup();
    nic.postRx(2);
    ns.exec('ip', 'link', 'set', tap.name, 'down');
    try {
      nic.send(ping(1));
      net.processQueue(1);
      expect(nic.tx.takeUsed()).toEqual([{ id: 0, len: 0 }]);
      expect(net.metrics).toMatchObject({ txLinkDown: 1, txFrames: 0 });
    } finally {
      ns.exec('ip', 'link', 'set', tap.name, 'up');
      ns.exec('ip', 'neigh', 'replace', GUEST_IP, 'lladdr', GUEST_MAC, 'dev', tap.name, 'nud', 'permanent');
    }
    nic.send(ping(2));
    net.processQueue(1);
    expect(replySeqs(receive(nic, loop, 1))).toEqual([2]);
  });

  it('an unexpected write error drops that frame (TX_REFUSED) and the next frames go out', () => {
    const faulty = new FaultyTap(tap);
    const { net, nic, loop } = setup({ backend: faulty });
    nic.postRx(2);
    faulty.faults.push(105); // ENOBUFS
    nic.send(ping(1));
    nic.send(ping(2));
    net.processQueue(1);
    expect(nic.tx.takeUsed()).toHaveLength(2);
    expect(net.metrics.faults.TX_REFUSED).toBe(1);
    expect(replySeqs(receive(nic, loop, 1))).toEqual([2]);
  });

  it('a TAP that fails on a write (EBADFD) takes the link down; that frame and the next are returned unsent', () => {
    const faulty = new FaultyTap(tap);
    const { net, nic, loop, interrupt, config } = setup({ backend: faulty });
    faulty.faults.push(77); // EBADFD: the interface is gone
    nic.send(ping(1));
    nic.send(ping(2));
    net.processQueue(1);
    expect(net.linkUp).toBe(false);
    expect(nic.tx.takeUsed()).toEqual([
      { id: 0, len: 0 },
      { id: 1, len: 0 },
    ]);
    expect(net.metrics).toMatchObject({ txFrames: 0, txLinkDown: 2, backendErrors: 1 });
    expect(faulty.written).toBe(0);
    expect(interrupt).toMatchObject({ used: [1], configChanges: 1 });
    expect([...config.bytes.subarray(6, 8)]).toEqual([0, 0]);
    expect(loop.handlers.size).toBe(0);
  });

  it('when the interface is deleted, the link goes down for good and the driver is told', () => {
    const ns2 = createNetns();
    const gone = Tap.open(tapName(), { create: true });
    try {
      ns2.adopt(gone.name, GUEST_MAC);
      const { net, nic, loop, interrupt, config, logs, reset } = setup({ backend: gone });
      nic.postRx(2);
      nic.send(ping(1)); // not yet notified when the TAP fails: returned unsent then
      expect(net.linkUp).toBe(true);
      ns2.exec('ip', 'link', 'del', gone.name);
      for (let i = 0; i < 10 && net.linkUp; i++) loop.run(20);
      expect(net.linkUp).toBe(false);
      expect([...config.bytes.subarray(6, 8)]).toEqual([0, 0]);
      expect(config.generation).toBe(1);
      expect(interrupt.configChanges).toBe(1);
      expect(loop.handlers.size).toBe(0);
      expect(net.metrics.backendErrors).toBe(1);
      expect(logs[0]).toMatch(
        /: the link is down for good: reading a frame from TAP .*: readv failed: EBADFD/,
      );
      expect(nic.tx.takeUsed()).toEqual([{ id: 0, len: 0 }]);
      expect(interrupt.used).toEqual([1]);
      nic.send(ping(2));
      net.processQueue(1);
      expect(nic.tx.takeUsed()).toEqual([{ id: 1, len: 0 }]);
      expect(net.metrics).toMatchObject({ txLinkDown: 2, txFrames: 0 });
      // a reset and a new activation keep the link down and leave the TAP alone
      reset();
      const again = activated(net, new GuestNic());
      expect([...again.config.bytes.subarray(6, 8)]).toEqual([0, 0]);
      expect(again.loop.handlers.size).toBe(0);
    } finally {
      gone.close();
      ns2.remove();
    }
  });
});

describe('reset', () => {
  it('close() closes the TAP: one the process created goes away', () => {
    const name = tapName();
    const net = new Net(Tap.open(name, { create: true }), { mac: GUEST_MAC });
    const { loop } = activated(net, new GuestNic());
    expect(loop.handlers.size).toBe(1);
    net.close();
    expect(net.active).toBe(false);
    expect(net.tap.closed).toBe(true);
    expect(ns.exec('cat', '/proc/net/dev')).not.toContain(name);
    expect(ip('-j', 'link', 'show').includes(`"${name}"`)).toBe(false);
    loop.handlers.clear(); // closing the descriptor took it out of the epoll set
  });

  it('stops serving; a new activation serves new queues, and frames that waited in the TAP arrive', async () => {
    const first = setup();
    first.reset();
    expect(first.net.active).toBe(false);
    first.nic.send(ping(1));
    first.net.processQueue(1);
    expect(first.nic.tx.takeUsed()).toEqual([]);
    await udpBurst(3);
    const nic = new GuestNic();
    nic.postRx(4);
    const { loop } = activated(first.net, nic);
    expect(first.net.active).toBe(true);
    expect(udpIndexes([...nic.received(), ...receive(nic, loop, 1, 200)])).toEqual([0, 1, 2]);
  });
});
