import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkPayload, makePayload } from '../src/index.js';

describe('the network peer’s payloads', () => {
  it('carry the tag, the little-endian sequence number and the guest’s pattern', () => {
    const p = makePayload('TGRX', 0x01020304, 16);
    expect([...p]).toEqual([
      ...Buffer.from('TGRX'),
      4,
      3,
      2,
      1,
      // (7 * 0x01020304 + i) mod 256 for i = 8..15: 7 * 4 = 28
      28 + 8,
      28 + 9,
      28 + 10,
      28 + 11,
      28 + 12,
      28 + 13,
      28 + 14,
      28 + 15,
    ]);
  });

  it('check what they make, and catch any changed byte or wrong tag', () => {
    fc.assert(
      fc.property(fc.nat(0xffff_ffff), fc.integer({ min: 8, max: 1472 }), fc.nat(), (seq, size, pick) => {
        const p = makePayload('TGTX', seq, size);
        expect(checkPayload(p, 'TGTX')).toBe(true);
        expect(checkPayload(p, 'TGRX')).toBe(false);
        const at = pick % size;
        if (at >= 4 && at < 8) return; // the sequence number: another valid payload's
        p[at] = p[at]! ^ 0x40;
        expect(checkPayload(p, 'TGTX')).toBe(false);
      }),
    );
  });

  it('refuse payloads too short to hold a header', () => {
    expect(checkPayload(new Uint8Array(7), 'TGTX')).toBe(false);
  });
});
