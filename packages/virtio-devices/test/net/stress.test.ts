/**
 * Many frames both ways through a real TAP: the guest side keeps a window
 * of pings (the namespace's kernel answers) and UDP datagrams (a Node echo
 * server inside the namespace answers) in flight, refilling receive buffers
 * as Linux does, and every payload must come back exactly once and intact.
 */
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Net } from '../../src/net/device.js';
import type { Tap } from '../../src/net/tap.js';
import { echoRequest, parseFrame, udpFrame } from './frames.js';
import { activate, GuestNic } from './harness.js';
import { GUEST_IP, nodeServerIn, PEER_IP, type TestNetns, tapInNetns } from './netns.js';

const GUEST_MAC = '02:00:00:00:00:02';
const ECHO_PORT = 7777;
const PINGS = 2000;
const DATAGRAMS = 2000;
/** Requests in flight at most (below the TAP's queue of 1000 frames and the ring of 256). */
const WINDOW = 128;

let ns: TestNetns;
let tap: Tap;
let peerMac: string;
let echo: ChildProcess | undefined;

beforeAll(async () => {
  ({ ns, tap, peerMac } = tapInNetns(GUEST_MAC));
  echo = await nodeServerIn(
    ns,
    `const s = require('node:dgram').createSocket('udp4');
     s.on('message', (m, r) => s.send(m, r.port, r.address));
     s.bind(${ECHO_PORT}, '${PEER_IP}', () => console.log('ready'));`,
  );
});

afterAll(() => {
  echo?.kill();
  tap?.close();
  ns?.remove();
});

describe('under load', () => {
  it(`${PINGS} pings and ${DATAGRAMS} UDP datagrams with a window of ${WINDOW}: each answered once, payloads intact`, {
    timeout: 120_000,
  }, () => {
    const net = new Net(tap, { mac: GUEST_MAC });
    const nic = new GuestNic();
    const activated = activate(net, nic);
    const ends = { srcMac: GUEST_MAC, dstMac: peerMac, srcIp: GUEST_IP, dstIp: PEER_IP };
    const total = PINGS + DATAGRAMS;
    /** Request i: a ping for even i below 2·PINGS, a datagram otherwise; its payload starts with i. */
    const payloads: Buffer[] = [];
    const sentHash = createHash('sha256');
    const answered = new Map<number, Buffer>();
    let duplicates = 0;
    let strangers = 0;
    let sent = 0;
    nic.postRx(200);
    try {
      const deadline = Date.now() + 100_000;
      while (answered.size < total && Date.now() < deadline) {
        while (sent < total && sent - answered.size < WINDOW) {
          const i = sent++;
          const payload = Buffer.concat([
            Buffer.from(Uint32Array.of(i).buffer),
            randomBytes((i * 7919) % 1400),
          ]);
          payloads[i] = payload;
          const isPing = i % 2 === 0 && i < 2 * PINGS;
          nic.send(
            isPing
              ? echoRequest(ends, 0x5eed, i & 0xffff, payload)
              : udpFrame(ends, 40000, ECHO_PORT, payload),
          );
        }
        net.processQueue(1); // the driver's TX notification
        activated.loop.run(5);
        const got = nic.received();
        for (const r of got) {
          const f = parseFrame(r.frame);
          const data =
            f?.icmp?.type === 0 ? f.icmp.data : f?.udp?.srcPort === ECHO_PORT ? f.udp.data : undefined;
          if (data === undefined || data.length < 4) {
            strangers++;
            continue;
          }
          const i = Buffer.from(data).readUInt32LE(0);
          if (answered.has(i)) duplicates++;
          answered.set(i, Buffer.from(data));
        }
        if (got.length > 0) {
          nic.postRx(got.length); // Linux refills what it took...
          net.processQueue(0); // ...and notifies
        }
        nic.tx.takeUsed();
      }
    } finally {
      activated[Symbol.dispose]();
    }
    expect(duplicates).toBe(0);
    expect(strangers).toBe(0);
    expect(answered.size).toBe(total);
    const gotHash = createHash('sha256');
    for (let i = 0; i < total; i++) {
      sentHash.update(payloads[i]!);
      gotHash.update(answered.get(i)!);
    }
    expect(gotHash.digest('hex')).toBe(sentHash.digest('hex'));
    expect(net.metrics).toMatchObject({ txFrames: total, rxFrames: total, txWaits: 0 });
    expect(Object.values(net.metrics.faults).every((n) => n === 0)).toBe(true);
  });
});
