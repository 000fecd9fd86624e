/**
 * The test guest's network peer, run inside the test network namespace
 * (`ip netns exec <ns> node net-peer.js <ip> <port>`). It speaks the guest's
 * protocol (udp.h in the guest): it checks and counts "TGTX" packets, and
 * answers each "TGRQ first count size" with `count` "TGRX" packets. It talks
 * to its parent in JSON lines: `{"ready":true}` once bound; a `stats` line
 * on stdin is answered with the counters; end of stdin ends it.
 */
import { createSocket, type RemoteInfo } from 'node:dgram';
import { createInterface } from 'node:readline';

import { checkPayload, MAX_PAYLOAD, MAX_WINDOW, makePayload, type NetPeerStats } from './peer-protocol.js';

function main(ip: string, port: number): void {
  const stats: NetPeerStats = { txPackets: 0, txBytes: 0, bad: 0, requests: 0, rxSent: 0, sendErrors: 0 };
  const socket = createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
  const answer = (msg: Buffer, from: RemoteInfo) => {
    if (msg.length < 16) return void stats.bad++;
    const first = msg.readUInt32LE(4);
    const count = msg.readUInt32LE(8);
    const size = msg.readUInt32LE(12);
    if (count === 0 || count > MAX_WINDOW || size < 8 || size > MAX_PAYLOAD) return void stats.bad++;
    stats.requests++;
    for (let i = 0; i < count; i++) {
      socket.send(makePayload('TGRX', first + i, size), from.port, from.address, (e) => {
        if (e) stats.sendErrors++;
        else stats.rxSent++;
      });
    }
  };
  socket.on('message', (msg, from) => {
    const tag = msg.toString('latin1', 0, 4);
    if (tag === 'TGRQ') answer(msg, from);
    else if (tag === 'TGTX' && checkPayload(msg, 'TGTX')) {
      stats.txPackets++;
      stats.txBytes += msg.length;
    } else stats.bad++;
  });
  socket.bind(port, ip, () => process.stdout.write(`${JSON.stringify({ ready: true })}\n`));
  const input = createInterface({ input: process.stdin });
  input.on('line', (line) => {
    if (line.trim() === 'stats') process.stdout.write(`${JSON.stringify(stats)}\n`);
  });
  input.on('close', () => {
    socket.close();
    process.exit(0);
  });
}

const [ip, port] = process.argv.slice(2);
main(ip ?? '', Number(port));
