import { describe, expect, it } from 'vitest';
import type { BucketedSeries } from '$lib/api';
import { appendEnvelope, forLog, smooth, toEnvelope } from './envelope';

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
