/** MAC addresses: parsed, written and made up the way the configuration space needs them. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatMac, parseMac, randomMac } from '../../src/net/mac.js';

describe('MAC addresses', () => {
  it('parse and format back, in either case', () => {
    expect([...parseMac('02:aB:cd:EF:00:ff')]).toEqual([2, 0xab, 0xcd, 0xef, 0, 0xff]);
    expect(formatMac(parseMac('02:AB:CD:EF:00:FF'))).toBe('02:ab:cd:ef:00:ff');
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), (bytes) => {
        bytes[0] = bytes[0]! & 0xfe;
        expect(parseMac(formatMac(bytes))).toEqual(bytes);
      }),
    );
  });

  it('refuse anything but six unicast bytes', () => {
    for (const bad of [
      '',
      '02:00:00:00:00',
      '02:00:00:00:00:00:00',
      '02-00-00-00-00-01',
      '2:0:0:0:0:1',
      'g2:00:00:00:00:01',
    ])
      expect(() => parseMac(bad), bad).toThrow(RangeError);
    expect(() => parseMac('03:00:00:00:00:01')).toThrow(/multicast/);
    expect(() => parseMac(7 as unknown as string)).toThrow(TypeError);
    expect(() => formatMac(new Uint8Array(5))).toThrow(RangeError);
  });

  it('made up: random, unicast and locally administered', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const mac = randomMac();
      expect(mac[0]! & 3).toBe(2);
      seen.add(formatMac(mac));
    }
    expect(seen.size).toBe(100);
  });
});
