import { describe, expect, it } from 'vitest';
import { summarize, type Points } from './blocks.js';
import { Bucketer } from './buckets.js';
import { summarizeWindows } from './windows.js';

function points(values: number[], firstStep = 0): Points {
  const steps = Float64Array.from(values, (_, i) => firstStep + i);
  return { steps, values: Float64Array.from(values), times: new Float64Array(values.length), metadata: null };
}

/** Reference: the per-bucket extremes computed naively from every point. */
function naive(values: number[], b: Bucketer) {
  const max = new Map<number, number>();
  values.forEach((v, s) => {
    if (s < b.from || s > b.to || Number.isNaN(v)) return;
    const k = b.bucketOf(s);
    max.set(k, Math.max(max.get(k) ?? -Infinity, v));
  });
  return max;
}

describe('Bucketer', () => {
  const values = Array.from({ length: 10_000 }, (_, i) => Math.sin(i / 37) + (i === 4321 ? 50 : 0));
  const p = points(values);

  it.each([
    [0, 9_999, 10],
    [0, 9_999, 1000],
    [100, 9_000, 7],
    [4000, 4500, 3],
  ])('from summaries, windows or points, gives the same extremes as a naive scan (%i..%i, %i buckets)', (from, to, budget) => {
    const fromPoints = new Bucketer(from, to, budget);
    fromPoints.addPoints(p);
    const fromWindows = new Bucketer(from, to, budget);
    if (fromWindows.windowed) {
      fromWindows.addWindows(summarizeWindows(p)!);
      fromWindows.addPoints(p, true);
    } else {
      fromWindows.addPoints(p);
    }
    const expected = naive(values, fromPoints);
    for (const [k, v] of expected) {
      expect(fromPoints.maxValue[k]).toBe(v);
      expect(fromWindows.maxValue[k]).toBe(v);
    }
    expect(Array.from(fromWindows.count)).toEqual(Array.from(fromPoints.count));
    expect(Array.from(fromWindows.minValue)).toEqual(Array.from(fromPoints.minValue));
    expect(Array.from(fromWindows.lastStep)).toEqual(Array.from(fromPoints.lastStep));
  });

  it('keeps a spike visible in a single bucket', () => {
    const b = new Bucketer(0, 9_999, 1);
    b.addPoints(p);
    expect(b.maxValue[0]).toBe(values[4321]);
    expect(b.maxStep[0]).toBe(4321);
  });

  it('counts NaN apart from min/max and records the first NaN step', () => {
    const b = new Bucketer(0, 3, 1);
    b.addPoints(points([NaN, 2, NaN, -1]));
    expect([b.count[0], b.nanCount[0], b.minValue[0], b.maxValue[0], b.firstNanStep[0]]).toEqual([4, 2, -1, 2, 0]);
  });

  it('treats an all-Infinity bucket as having a max and a min', () => {
    const b = new Bucketer(0, 1, 1);
    b.addPoints(points([Infinity, Infinity]));
    expect([b.minValue[0], b.maxValue[0], b.minStep[0]]).toEqual([Infinity, Infinity, 0]);
  });

  it('uses a block summary only when the block falls in one bucket', () => {
    const b = new Bucketer(0, 999, 10);
    expect(b.fitsOneBucket(summarize(points([1, 2, 3], 0)))).toBe(true);
    expect(b.fitsOneBucket(summarize(points([1, 2, 3], 126)))).toBe(false);
  });
});
