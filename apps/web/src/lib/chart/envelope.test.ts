import { describe, expect, it } from 'vitest';
import type { BucketedSeries } from '$lib/api';
import { appendEnvelope, bucketAt, forLog, smooth, toEnvelope } from './envelope';

function series(
  buckets: Partial<BucketedSeries['buckets']> & { count: number[] },
  extra: Partial<BucketedSeries> = {},
): BucketedSeries {
  const n = buckets.count.length;
  const fill = <T>(v: T): T[] => Array.from({ length: n }, () => v);
  return {
    name: 'm',
    from: 0,
    to: 99,
    budget: n,
    x: 'step',
    bucketStart: 0,
    bucketWidth: 100 / n,
    pointCount: buckets.count.reduce((a, b) => a + b, 0),
    summary: {} as BucketedSeries['summary'],
    buckets: {
      firstStep: fill(0),
      firstValue: fill(0),
      lastStep: fill(0),
      lastValue: fill(0),
      minStep: fill(0),
      minValue: fill(0),
      maxStep: fill(0),
      maxValue: fill(0),
      nanCount: fill(0),
      firstNanStep: fill(null),
      ...buckets,
    },
    ...extra,
  };
}

describe('toEnvelope', () => {
  it('keeps each bucket’s true min and max, so a one-step spike survives', () => {
    const e = toEnvelope(
      series({
        count: [50, 50],
        firstStep: [0, 50],
        lastStep: [49, 99],
        firstValue: [1, 1],
        lastValue: [1, 1],
        minValue: [0.5, 1],
        maxValue: [1000, 1],
      }),
    );
    expect(e.maxs).toEqual([1000, 1]);
    expect(e.mins).toEqual([0.5, 1]);
    expect(e.lines).toEqual([1, 1]);
    expect(e.xs).toEqual([24.5, 74.5]);
  });

  it('turns NaN and ±Infinity into marker steps and leaves them off the numeric envelope', () => {
    const e = toEnvelope(
      series({
        count: [3, 2],
        firstStep: [0, 3],
        lastStep: [2, 4],
        firstValue: ['NaN', 1],
        lastValue: [2, 'Infinity'],
        minValue: [2, '-Infinity'],
        minStep: [2, 4],
        maxValue: ['Infinity', 'Infinity'],
        maxStep: [1, 4],
        nanCount: [1, 0],
        firstNanStep: [0, null],
      }),
    );
    expect(e.nanSteps).toEqual([0]);
    expect(e.posInfSteps).toEqual([1, 4]);
    expect(e.negInfSteps).toEqual([4]);
    expect(e.maxs).toEqual([null, null]);
    expect(e.mins).toEqual([2, null]);
    expect(e.lines).toEqual([2, 1]);
  });

  it('handles all-NaN buckets (null min/max) without inventing a value', () => {
    const e = toEnvelope(
      series({
        count: [2],
        firstValue: ['NaN'],
        lastValue: ['NaN'],
        minValue: [null],
        maxValue: [null],
        nanCount: [2],
        firstNanStep: [7],
      }),
    );
    expect(e.lines).toEqual([null]);
    expect(e.nanSteps).toEqual([7]);
  });
});

describe('the drawn line (M4)', () => {
  // 25.0 at step 900 among values near 0.03: one bucket of steps 800–999 holds the spike, and its
  // first and last points are ordinary, so the bucket mean would draw it at half height or less.
  const spiky = () =>
    toEnvelope(
      series({
        count: [200, 200],
        firstStep: [600, 800],
        lastStep: [799, 999],
        firstValue: [0.031, 0.03],
        lastValue: [0.029, 0.028],
        minStep: [700, 950],
        minValue: [0.02, 0.025],
        maxStep: [650, 900],
        maxValue: [0.04, 25],
      }),
    );

  it('passes through each bucket’s first, min, max and last points in step order, so it reaches the spike', () => {
    const e = spiky();
    expect(e.pointXs).toEqual([600, 650, 700, 799, 800, 900, 950, 999]);
    expect(e.points).toEqual([0.031, 0.04, 0.02, 0.029, 0.03, 25, 0.025, 0.028]);
    expect(e.pointBuckets).toEqual([0, 0, 0, 0, 1, 1, 1, 1]);
    expect(Math.max(...e.points.filter((v): v is number => v !== null))).toBe(25);
    // The readout value is still the bucket's, not the spike's.
    expect(e.lines[1]).toBeCloseTo(0.029, 10);
  });

  it('draws a point once where first, min, max or last coincide, and a gap for an all-NaN bucket', () => {
    const e = toEnvelope(
      series({
        count: [1, 2, 2],
        firstStep: [0, 1, 3],
        lastStep: [0, 2, 4],
        firstValue: [5, 1, 'NaN'],
        lastValue: [5, 3, 'NaN'],
        minStep: [0, 1, null],
        minValue: [5, 1, null],
        maxStep: [0, 2, null],
        maxValue: [5, 3, null],
        nanCount: [0, 0, 2],
        firstNanStep: [null, null, 3],
      }),
    );
    expect(e.pointXs).toEqual([0, 1, 2, 3.5]);
    expect(e.points).toEqual([5, 1, 3, null]);
  });

  it('skips NaN and ±Infinity points (they are markers) but keeps the bucket’s finite ones', () => {
    const e = toEnvelope(
      series({
        count: [3],
        firstStep: [0],
        lastStep: [2],
        firstValue: ['NaN'],
        lastValue: [2],
        minStep: [2],
        minValue: [2],
        maxStep: [1],
        maxValue: ['Infinity'],
        nanCount: [1],
        firstNanStep: [0],
      }),
    );
    expect(e.pointXs).toEqual([2]);
    expect(e.points).toEqual([2]);
  });

  it('keeps the bucket index of appended points and finds the bucket under an x', () => {
    const e = spiky();
    const both = appendEnvelope(e, e);
    expect(both.pointBuckets.slice(8)).toEqual([2, 2, 2, 2, 3, 3, 3, 3]);
    expect(bucketAt(e, 900)).toBe(1);
    expect(bucketAt(e, 600)).toBe(0);
    expect(bucketAt(e, 5000)).toBe(1);
  });
});

describe('appendEnvelope', () => {
  it('concatenates a later range and sums the counts', () => {
    const a = toEnvelope(series({ count: [1], firstStep: [0], lastStep: [0], maxValue: [1] }, { to: 0 }));
    const b = toEnvelope(series({ count: [1], firstStep: [1], lastStep: [1], maxValue: [2] }, { from: 1, to: 1 }));
    const c = appendEnvelope(a, b);
    expect(c.maxs).toEqual([1, 2]);
    expect(c.from).toBe(0);
    expect(c.to).toBe(1);
    expect(c.pointCount).toBe(2);
  });
});

describe('smooth and forLog', () => {
  it('is the identity at weight 0 and debiased at the start', () => {
    expect(smooth([1, 2, null, 3], 0)).toEqual([1, 2, null, 3]);
    const s = smooth([2, 2, 2], 0.9);
    for (const v of s) expect(v).toBeCloseTo(2, 10);
    expect(smooth([1, null, 3], 0.5)[1]).toBeNull();
  });

  it('drops values a log scale cannot show', () => {
    expect(forLog([1, 0, -1, null, 0.5])).toEqual([1, null, null, null, 0.5]);
  });
});
