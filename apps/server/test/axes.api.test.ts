import type { Static } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import type { CompareResponse } from '../src/modules/compare/compare.schemas.js';
import type { BucketedSeries } from '../src/modules/metrics/metrics.schemas.js';
import { DIALECTS, call, createExperiment, errorCode, useTestServer, useUser, type TestUser } from './harness.js';
import { declaredBody } from './route-schemas.js';

type Series = Static<typeof BucketedSeries>;

describe.each(DIALECTS)('x-axes of metric reads on %s', (dialect) => {
  const server = useTestServer(dialect);
  const alice = useUser(server);

  async function log(user: TestUser, series: Record<string, unknown>): Promise<string> {
    const id = await createExperiment(server.app, user);
    const res = await call(server.app, user, 'POST', `/api/experiments/${id}/metrics/batch`, { series });
    expect(res.statusCode).toBe(201);
    return id;
  }

  async function read(id: string, query: string): Promise<Series> {
    const res = await call(server.app, alice, 'GET', `/api/experiments/${id}/metrics/series?${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return declaredBody<Series>(server.app, res, 'GET /api/experiments/{id}/metrics/series');
  }

  it('x=metric:tokens keeps a one-step spike and a NaN, and every bucket matches a direct computation over the points', async () => {
    const n = 20_000;
    const steps = Array.from({ length: n }, (_, i) => i);
    // Tokens grow by a varying amount per step (never shrinking), as with packed batches.
    const tokens: number[] = [];
    for (let i = 0, t = 0; i < n; i++) tokens.push((t += 500 + (i % 7) * 100));
    const loss: (number | string)[] = steps.map((i) => 3 / (1 + i / 1000) + 0.01 * Math.sin(i));
    loss[12_345] = 1000;
    loss[777] = 'NaN';
    const id = await log(alice, { loss: { steps, values: loss }, tokens: { steps, values: tokens } });

    const budget = 100;
    const s = await read(id, `name=loss&x=metric:tokens&budget=${budget}`);
    expect(s.x).toBe('metric:tokens');
    expect(s.xPoints).toBeUndefined();
    expect(s.from).toBe(tokens[0]);
    expect(s.to).toBe(tokens[n - 1]);
    expect(s.bucketStart).toBe(tokens[0]);
    expect(s.bucketWidth).toBeCloseTo((tokens[n - 1]! - tokens[0]!) / budget, 9);
    expect(s.pointCount).toBe(n);
    // The spike, at its x (tokens), not at its step.
    const spike = s.buckets.maxValue.indexOf(1000);
    expect(spike).toBeGreaterThanOrEqual(0);
    expect(s.buckets.maxStep[spike]).toBe(tokens[12_345]);
    expect(s.buckets.nanCount.reduce((a, b) => a + b, 0)).toBe(1);

    // Direct: each point's bucket from its x.
    const naive = new Map<number, { count: number; min: number; max: number; minX: number; maxX: number; nan: number }>();
    steps.forEach((i) => {
      const k = Math.min(Math.floor((tokens[i]! - s.bucketStart) / s.bucketWidth), budget - 1);
      const b = naive.get(k) ?? { count: 0, min: Infinity, max: -Infinity, minX: NaN, maxX: NaN, nan: 0 };
      b.count++;
      const v = loss[i]!;
      if (typeof v === 'string') b.nan++;
      else {
        if (v < b.min) [b.min, b.minX] = [v, tokens[i]!];
        if (v > b.max) [b.max, b.maxX] = [v, tokens[i]!];
      }
      naive.set(k, b);
    });
    expect(s.buckets.count.length).toBe(naive.size);
    s.buckets.firstStep.forEach((firstX, i) => {
      const k = Math.min(Math.floor((firstX - s.bucketStart) / s.bucketWidth), budget - 1);
      const b = naive.get(k)!;
      expect([s.buckets.count[i], s.buckets.minValue[i], s.buckets.maxValue[i], s.buckets.nanCount[i]]).toEqual([
        b.count,
        b.min,
        b.max,
        b.nan,
      ]);
      expect([s.buckets.minStep[i], s.buckets.maxStep[i]]).toEqual([b.minX, b.maxX]);
    });
  });

  it('x=metric:tokens over many windows per bucket: whole 64-step windows, values and extremes exact, the spike kept', async () => {
    const n = 20_000;
    const W = 64;
    const steps = Array.from({ length: n }, (_, i) => i);
    const tokens: number[] = [];
    for (let i = 0, t = 0; i < n; i++) tokens.push((t += 400 + ((i * 7919) % 601)));
    const loss: (number | string)[] = steps.map((i) => 3 / (1 + i / 1000) + 0.01 * Math.sin(i));
    loss[12_345] = 1000;
    loss[777] = 'NaN';
    const id = await log(alice, { loss: { steps, values: loss }, tokens: { steps, values: tokens } });

    // 313 windows, 30 buckets: at least 8 windows a bucket, so the read merges window summaries.
    const budget = 30;
    const s = await read(id, `name=loss&x=metric:tokens&budget=${budget}`);
    expect([s.from, s.to, s.bucketStart]).toEqual([tokens[0], tokens[n - 1], tokens[0]]);
    expect(s.pointCount).toBe(n);
    // Direct: each point in the bucket of its window's first x.
    const bucketOf = (i: number) => {
      const first = tokens[Math.floor(i / W) * W]!;
      return Math.min(Math.floor((first - s.bucketStart) / s.bucketWidth), budget - 1);
    };
    const naive = new Map<number, { count: number; min: number; max: number; nan: number; first: number }>();
    steps.forEach((i) => {
      const k = bucketOf(i);
      const b = naive.get(k) ?? { count: 0, min: Infinity, max: -Infinity, nan: 0, first: i };
      b.count++;
      const v = loss[i]!;
      if (typeof v === 'string') b.nan++;
      else [b.min, b.max] = [Math.min(b.min, v), Math.max(b.max, v)];
      naive.set(k, b);
    });
    const keys = [...naive.keys()].sort((a, b) => a - b);
    expect(s.buckets.count).toEqual(keys.map((k) => naive.get(k)!.count));
    expect(s.buckets.minValue).toEqual(keys.map((k) => naive.get(k)!.min));
    expect(s.buckets.maxValue).toEqual(keys.map((k) => naive.get(k)!.max));
    expect(s.buckets.nanCount).toEqual(keys.map((k) => naive.get(k)!.nan));
    // A bucket starts at a window's first step, whose x is exact.
    expect(s.buckets.firstStep).toEqual(keys.map((k) => tokens[naive.get(k)!.first]));
    // The spike at its true height; its x inside the window that holds it.
    const spike = s.buckets.maxValue.indexOf(1000);
    expect(spike).toBeGreaterThanOrEqual(0);
    const w0 = Math.floor(12_345 / W) * W;
    expect(s.buckets.maxStep[spike]).toBeGreaterThanOrEqual(tokens[w0]!);
    expect(s.buckets.maxStep[spike]).toBeLessThanOrEqual(tokens[w0 + W - 1]!);
  });

  it('aligns runs logged at different steps on x=metric:epoch, in compare as in single reads', async () => {
    // Run a: 10 steps per epoch; run b: 40 steps per epoch. Both logged loss = 1 / (1 + epoch).
    const runOf = async (perEpoch: number): Promise<string> => {
      const steps = Array.from({ length: 4 * perEpoch + 1 }, (_, i) => i);
      const epoch = steps.map((s) => s / perEpoch);
      return log(alice, { loss: { steps, values: epoch.map((e) => 1 / (1 + e)) }, epoch: { steps, values: epoch } });
    };
    const a = await runOf(10);
    const b = await runOf(40);
    const res = await call(
      server.app,
      alice,
      'GET',
      `/api/experiments/compare?ids=${a},${b}&metrics=loss&budget=8&x=metric:epoch`,
    );
    expect(res.statusCode, res.body).toBe(200);
    const [sa, sb] = declaredBody<Static<typeof CompareResponse>>(
      server.app,
      res,
      'GET /api/experiments/compare',
    ).experiments.map((e) => e.metrics[0]!.series);
    for (const s of [sa!, sb!]) {
      expect(s.x).toBe('metric:epoch');
      expect([s.from, s.to, s.bucketStart, s.bucketWidth]).toEqual([0, 4, 0, 0.5]);
      // Every bucket k holds epochs [k/2, (k+1)/2): the same loss range whatever the steps per epoch.
      expect(s.buckets.firstStep).toEqual([0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5]);
      expect(s.buckets.maxValue).toEqual([1, 1 / 1.5, 1 / 2, 1 / 2.5, 1 / 3, 1 / 3.5, 1 / 4, 1 / 4.5]);
    }
    expect(sa!.buckets.count).toEqual([5, 5, 5, 5, 5, 5, 5, 6]);
    expect(sb!.buckets.count).toEqual([20, 20, 20, 20, 20, 20, 20, 21]);
    expect(await read(a, 'name=loss&x=metric:epoch&budget=8')).toMatchObject({ buckets: sa!.buckets });
  });

  it('answers a metric that goes back and forth as points joined on step (xPoints)', async () => {
    const steps = [0, 1, 2, 3, 4, 5];
    const id = await log(alice, {
      loss: { steps, values: [10, 11, 12, 13, 14, 15] },
      lr: { steps: [0, 1, 2, 3, 5], values: [0.3, 0.1, 0.2, 0.1, 0.3] },
    });
    const s = await read(id, 'name=loss&x=metric:lr&budget=2');
    expect(s.xPoints).toBe(true);
    expect([s.from, s.to]).toEqual([0.1, 0.3]);
    // Step 4 has no lr: left out. lr 0.1 (steps 1, 3) in [0.1, 0.2); 0.2 (step 2) and 0.3 (steps 0, 5) in [0.2, 0.3].
    expect(s.pointCount).toBe(5);
    expect(s.buckets.count).toEqual([2, 3]);
    expect(s.buckets.minValue).toEqual([11, 10]);
    expect(s.buckets.maxValue).toEqual([13, 15]);
  });

  it('x=relative gives seconds since the run’s first point, over all its metrics', async () => {
    const t0 = Date.UTC(2026, 0, 1);
    const id = await log(alice, {
      early: { steps: [0], values: [1], times: [t0] },
      loss: { steps: [0, 1, 2], values: [3, 2, 1], times: [t0 + 10_000, t0 + 20_000, t0 + 30_000] },
    });
    const s = await read(id, 'name=loss&x=relative&budget=2');
    expect(s.x).toBe('relative');
    expect([s.from, s.to, s.bucketStart, s.bucketWidth]).toEqual([10, 30, 10, 10]);
    expect(s.buckets.firstStep).toEqual([10, 20]);
    expect(s.buckets.maxValue).toEqual([3, 2]);
  });

  it('refuses an unknown axis and a missing x metric, in the one error shape', async () => {
    const id = await log(alice, { loss: { values: [1, 2] } });
    const bad = await call(server.app, alice, 'GET', `/api/experiments/${id}/metrics/series?name=loss&x=epoch`);
    expect(bad.statusCode).toBe(400);
    expect(errorCode(bad)).toBe('VALIDATION_ERROR');
    const missing = await call(server.app, alice, 'GET', `/api/experiments/${id}/metrics/series?name=loss&x=metric:epoch`);
    expect(missing.statusCode).toBe(404);
    expect(errorCode(missing)).toBe('METRIC_NOT_FOUND');
  });
});
