import { describe, expect, it } from 'vitest';
import { TEST_GUEST_WORKLOADS, testGuestCmdline } from '../src/index.js';

describe('testGuestCmdline', () => {
  it('names the workloads in order and only the settings given', () => {
    expect(testGuestCmdline({ work: ['pio', 'mmio'] })).toBe('tg.work=pio,mmio');
    expect(
      testGuestCmdline({ work: ['idle'], idleMs: 250, exits: 10, pioPort: 0x99, mmioAddress: 0xc000_0000 }),
    ).toBe('tg.work=idle tg.exits=10 tg.pio=153 tg.mmio=3221225472 tg.idle.ms=250');
  });

  it('spells every block, network and rng setting', () => {
    const line = testGuestCmdline({
      work: ['blk-read', 'net-tx', 'rng'],
      queueSize: 64,
      blk: {
        bytes: 1 << 20,
        requestBytes: 4096,
        depth: 4,
        seed: 1,
        writeSeed: 2,
        writeOffset: 512,
        randomReads: 9,
        expectSectors: 2048,
        expectSerial: 'disk-1',
      },
      net: {
        ip: '10.0.0.2',
        peer: '10.0.0.1',
        peerMac: '02:00:00:00:00:01',
        port: 9,
        packets: 5,
        payloadBytes: 100,
        window: 8,
      },
      rng: { bytes: 4096, requestBytes: 512 },
    });
    expect(line.split(' ')).toEqual([
      'tg.work=blk-read,net-tx,rng',
      'tg.queue=64',
      'tg.blk.bytes=1048576',
      'tg.blk.req=4096',
      'tg.blk.depth=4',
      'tg.blk.seed=1',
      'tg.blk.wseed=2',
      'tg.blk.woff=512',
      'tg.rand.count=9',
      'tg.blk.sectors=2048',
      'tg.blk.serial=disk-1',
      'tg.net.ip=10.0.0.2',
      'tg.net.peer=10.0.0.1',
      'tg.net.peermac=02:00:00:00:00:01',
      'tg.net.port=9',
      'tg.net.count=5',
      'tg.net.size=100',
      'tg.net.window=8',
      'tg.rng.bytes=4096',
      'tg.rng.req=512',
    ]);
  });

  it('knows every workload the guest knows', () => {
    expect(testGuestCmdline({ work: [...TEST_GUEST_WORKLOADS] })).toBe(
      `tg.work=${TEST_GUEST_WORKLOADS.join(',')}`,
    );
  });

  it('refuses what the guest would refuse, before any guest runs', () => {
    expect(() => testGuestCmdline({ work: [] })).toThrow(RangeError);
    expect(() => testGuestCmdline({ work: ['nope' as 'pio'] })).toThrow(RangeError);
    expect(() => testGuestCmdline({ work: Array(17).fill('pio') })).toThrow(RangeError);
    expect(() => testGuestCmdline({ work: ['pio'], exits: 0 })).toThrow(RangeError);
    expect(() => testGuestCmdline({ work: ['pio'], exits: 1.5 })).toThrow(TypeError);
    expect(() => testGuestCmdline({ work: ['pio'], pioPort: 0x10000 })).toThrow(RangeError);
    expect(() => testGuestCmdline({ work: ['blk-read'], blk: { depth: 129 } })).toThrow(RangeError);
    expect(() => testGuestCmdline({ work: ['blk-read'], blk: { expectSerial: 'has space' } })).toThrow(
      RangeError,
    );
    expect(() => testGuestCmdline({ work: ['blk-read'], blk: { expectSerial: 'x'.repeat(21) } })).toThrow(
      RangeError,
    );
    const net = { ip: '10.0.0.2', peer: '10.0.0.1', peerMac: '02:00:00:00:00:01' };
    expect(() => testGuestCmdline({ work: ['net-rx'], net: { ...net, ip: '10.0.0.256' } })).toThrow(
      RangeError,
    );
    expect(() => testGuestCmdline({ work: ['net-rx'], net: { ...net, peerMac: '02:00:00:00:00' } })).toThrow(
      RangeError,
    );
    expect(() => testGuestCmdline({ work: ['net-rx'], net: { ...net, payloadBytes: 1473 } })).toThrow(
      RangeError,
    );
    expect(() => testGuestCmdline({ work: ['net-rx'], net: { ...net, window: 129 } })).toThrow(RangeError);
    expect(() =>
      testGuestCmdline({ work: ['net-rx'], net: { ...net, peer: 7 as unknown as string } }),
    ).toThrow(TypeError);
  });
});
