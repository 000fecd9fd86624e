import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { median, pairedRatio } from '../src/index.js';

describe('median', () => {
  it('is the middle value, or the mean of the middle two, whatever the order', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true, min: -1e9, max: 1e9 }), { minLength: 1 }), (xs) => {
        const m = median(xs);
        expect(xs.filter((x) => x < m).length).toBeLessThanOrEqual(xs.length / 2);
        expect(xs.filter((x) => x > m).length).toBeLessThanOrEqual(xs.length / 2);
      }),
    );
  });
});

describe('pairedRatio', () => {
  it('is the median of the ratios of runs made back to back', () => {
    // The machine got twice as slow after the first pair; each pair's ratio is still 1.1.
    expect(pairedRatio([11, 22, 22], [10, 20, 20])).toBeCloseTo(1.1);
    expect(pairedRatio([1, 2], [])).toBeNaN();
    expect(pairedRatio([1, 2], [0, 4])).toBe(0.5); // pairs with a zero baseline are left out
  });
});
