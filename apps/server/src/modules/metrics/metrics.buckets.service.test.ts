import { describe, expect, it } from 'vitest';
import { Bucketer } from './buckets.js';
import { collect, toBucketedSeries } from './metrics.buckets.service.js';
import type { SeriesRow } from './metrics.repository.js';

const series: SeriesRow = {
  id: 1,
  experiment_id: 'e',
  name: 'loss',
  point_count: 6,
  block_count: 1,
  first_step: 0,
  last_step: 5,
  last_value: 2,
  min_value: -1,
  max_value: 2,
  nan_count: 2,
  updated_at: 1_764_000_000_000,
};

describe('bucketed reads', () => {
  // Buckets of two steps: [NaN, NaN] | [Infinity, -1] | (empty) | [-Infinity, 2]
  const b = new Bucketer(0, 7, 4, 'points');
  const steps = Float64Array.of(0, 1, 2, 3, 6, 7);
  b.addPoints({ steps, values: Float64Array.of(NaN, NaN, Infinity, -1, -Infinity, 2), times: steps, metadata: null });

  it('return numbers: the non-empty buckets, NaN where a bucket has no such figure', () => {
    const r = collect(b, series, 'step');
    expect(r.pointCount).toBe(6);
    expect([...r.buckets.count]).toEqual([2, 2, 2]);
    expect([...r.buckets.firstValue]).toEqual([NaN, Infinity, -Infinity]);
    expect([...r.buckets.minValue]).toEqual([NaN, -1, -Infinity]);
    expect([...r.buckets.minStep]).toEqual([NaN, 3, 6]);
    expect([...r.buckets.maxValue]).toEqual([NaN, Infinity, 2]);
    expect([...r.buckets.maxStep]).toEqual([NaN, 2, 7]);
    expect([...r.buckets.firstNanStep]).toEqual([0, NaN, NaN]);
  });

  it('make the wire form only in the response builder', () => {
    const wire = toBucketedSeries(collect(b, series, 'step'));
    expect(wire).toMatchObject({
      name: 'loss',
      x: 'step',
      from: 0,
      to: 7,
      budget: 4,
      bucketStart: 0,
      bucketWidth: 2,
      pointCount: 6,
    });
    expect(wire.summary).toMatchObject({ name: 'loss', lastValue: 2, min: -1, nanCount: 2 });
    expect(wire.buckets).toEqual({
      count: [2, 2, 2],
      firstStep: [0, 2, 6],
      firstValue: ['NaN', 'Infinity', '-Infinity'],
      lastStep: [1, 3, 7],
      lastValue: ['NaN', -1, 2],
      minStep: [null, 3, 6],
      minValue: [null, -1, '-Infinity'],
      maxStep: [null, 2, 7],
      maxValue: [null, 'Infinity', 2],
      nanCount: [2, 0, 0],
      firstNanStep: [0, null, null],
    });
  });
});
