import { describe, expect, it } from 'vitest';
import { numericAxis } from './pc-axis';

describe('numericAxis', () => {
  it('is logarithmic for positive values spanning more than two decades, with a tick per decade', () => {
    const a = numericAxis([1e-4, 3e-4, 1e-3, 3e-2, 0.3]);
    expect(a.log).toBe(true);
    expect(a.ticks).toEqual([1e-4, 1e-3, 1e-2, 1e-1, 0.3]);
    // Equal ratios are equal distances: 1e-4 → 1e-3 is as far as 1e-3 → 1e-2.
    expect(a.at(1e-3) - a.at(1e-4)).toBeCloseTo(a.at(1e-2) - a.at(1e-3), 10);
    expect(a.at(1e-4)).toBe(0);
    expect(a.at(0.3)).toBe(1);
  });

  it('stays linear within two decades, or with a value ≤ 0', () => {
    expect(numericAxis([1, 50, 100]).log).toBe(false);
    expect(numericAxis([0, 1e-4, 1]).log).toBe(false);
    expect(numericAxis([-1, 1000]).ticks).toEqual([-1, 1000]);
  });

  it('gives a single value a range around it', () => {
    const a = numericAxis([5]);
    expect(a.at(5)).toBe(0.5);
  });
});
