import type { Static } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import type { BandResponse } from '../src/modules/compare/band.schemas.js';
import { DIALECTS, call, createExperiment, errorCode, useTestServer, useUser, type TestUser } from './harness.js';
import { declaredBody } from './route-schemas.js';

type Band = Static<typeof BandResponse>;
const BAND = 'POST /api/metrics/band';

/** A run as logged: steps, values (NaN as NaN) and, for a metric axis, the x of each step. */
interface Run {
  steps: number[];
  values: number[];
  x: number[];
}

/** Deterministic pseudo-random numbers in [0, 1). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** The band computed directly from every raw point: the definition in docs/api.md, written out. */
function direct(runs: readonly Run[], band: Band, from: number, to: number): Map<number, Record<string, number>> {
  const perRun = runs.map((r) => {
    const acc = new Map<number, { sum: number; n: number; nan: boolean }>();
    r.x.forEach((x, i) => {
      if (x < from || x > to) return;
      const k = Math.min(Math.floor((x - band.bucketStart) / band.bucketWidth), band.budget - 1);
      const a = acc.get(k) ?? { sum: 0, n: 0, nan: false };
      if (Number.isNaN(r.values[i]!)) a.nan = true;
      else [a.sum, a.n] = [a.sum + r.values[i]!, a.n + 1];
      acc.set(k, a);
    });
    return acc;
  });
  const out = new Map<number, Record<string, number>>();
  for (let k = 0; k < band.budget; k++) {
    const means = perRun.flatMap((acc) => (acc.get(k)?.n ? [acc.get(k)!.sum / acc.get(k)!.n] : []));
    const nanRuns = perRun.filter((acc) => acc.get(k)?.nan).length;
    if (means.length === 0 && nanRuns === 0) continue;
    const n = means.length;
    const mean = means.reduce((a, b) => a + b, 0) / n;
    const std = Math.sqrt(means.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
    const sorted = [...means].sort((a, b) => a - b);
    const median = n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
    out.set(k, { n, nanRuns, mean, std, stderr: std / Math.sqrt(n), min: sorted[0]!, max: sorted[n - 1]!, median });
  }
  return out;
}

function expectMatches(band: Band, want: Map<number, Record<string, number>>): void {
  expect(band.bucket).toEqual([...want.keys()]);
  band.bucket.forEach((k, i) => {
    const w = want.get(k)!;
    expect([band.n[i], band.nanRuns[i]]).toEqual([w.n, w.nanRuns]);
    for (const f of ['mean', 'std', 'stderr', 'min', 'max', 'median'] as const) {
      const got = Number(band[f][i]); // a wire number: "NaN" stays NaN and fails the comparison
      expect(Math.abs(got - w[f]!), `${f} of bucket ${k}: ${got} vs ${w[f]}`).toBeLessThanOrEqual(
        1e-9 * Math.abs(w[f]!) + 1e-300,
      );
    }
  });
}

describe.each(DIALECTS)('band API on %s', (dialect) => {
  const server = useTestServer(dialect);
  const alice = useUser(server);
  const bob = useUser(server);

  /** Logs runs of `loss` (and `tokens`, x per step) in two batches each, as a client would. */
  async function logRuns(user: TestUser, runs: readonly Run[]): Promise<string[]> {
    const ids: string[] = [];
    for (const r of runs) {
      const id = await createExperiment(server.app, user);
      const half = Math.floor(r.steps.length / 2);
      for (const [a, b] of [
        [0, half],
        [half, r.steps.length],
      ] as const) {
        const steps = r.steps.slice(a, b);
        const res = await call(server.app, user, 'POST', `/api/experiments/${id}/metrics/batch`, {
          series: {
            loss: { steps, values: r.values.slice(a, b).map((v) => (Number.isNaN(v) ? 'NaN' : v)) },
            tokens: { steps, values: r.x.slice(a, b) },
          },
        });
        expect(res.statusCode).toBe(201);
      }
      ids.push(id);
    }
    return ids;
  }

  /** 5 runs: different lengths (one ends early, one starts late), different tokens per step, NaN in one. */
  function makeRuns(): Run[] {
    const rand = random(17);
    return [20_000, 20_000, 12_000, 20_000, 20_000].map((len, r) => {
      const first = r === 3 ? 5_000 : 0;
      const steps = Array.from({ length: len - first }, (_, i) => first + i);
      const perStep = 100 + 10 * r;
      const values = steps.map((s) => 2 / (1 + s / 3000) + 0.1 * r + 0.05 * rand());
      if (r === 1) for (const s of [10, 11, 4_321, 19_999]) values[s] = NaN;
      return { steps, values, x: steps.map((s) => s * perStep) };
    });
  }

  it('matches a direct computation over the raw points (1e-9 relative), on steps and on x=metric:tokens', async () => {
    const runs = makeRuns();
    const ids = await logRuns(alice, runs);
    for (const budget of [50, 333]) {
      const res = await call(server.app, alice, 'POST', '/api/metrics/band', { experimentIds: ids, name: 'loss', budget });
      expect(res.statusCode, res.body).toBe(200);
      const band = declaredBody<Band>(server.app, res, BAND);
      expect(band).toMatchObject({ name: 'loss', x: 'step', budget, experiments: ids });
      const byStep = runs.map((r) => ({ ...r, x: r.steps }));
      expectMatches(band, direct(byStep, band, 0, 19_999));
      // The run that ends early shows as a smaller n at the end, never as a shift of the mean.
      expect(band.n[band.n.length - 1]).toBe(4);
      expect(Math.max(...band.nanRuns)).toBe(1);
    }
    const res = await call(server.app, alice, 'POST', '/api/metrics/band', {
      experimentIds: ids,
      name: 'loss',
      budget: 64,
      x: 'metric:tokens',
      from: 100_000,
      to: 2_000_000,
    });
    expect(res.statusCode, res.body).toBe(200);
    const band = declaredBody<Band>(server.app, res, BAND);
    expect(band.x).toBe('metric:tokens');
    expect([band.bucketStart, band.bucketWidth]).toEqual([100_000, 1_900_000 / 64]);
    expectMatches(band, direct(runs, band, 100_000, 2_000_000));
  });

  it('leaves out runs without the metric, and is 404 for any id the caller cannot read', async () => {
    const [a, b] = await logRuns(alice, makeRuns().slice(0, 2));
    const other = await createExperiment(server.app, alice);
    const ok = await call(server.app, alice, 'POST', '/api/metrics/band', {
      experimentIds: [a, other, b],
      name: 'loss',
      budget: 10,
    });
    expect(ok.statusCode).toBe(200);
    expect(declaredBody<Band>(server.app, ok, BAND).experiments).toEqual([a, b]);

    const [theirs] = await logRuns(bob, makeRuns().slice(0, 1));
    const foreign = await call(server.app, alice, 'POST', '/api/metrics/band', { experimentIds: [a, theirs], name: 'loss' });
    expect(foreign.statusCode).toBe(404);
    expect(errorCode(foreign)).toBe('EXPERIMENT_NOT_FOUND');
    const anonymous = await call(server.app, null, 'POST', '/api/metrics/band', { experimentIds: [a, b], name: 'loss' });
    expect(anonymous.statusCode).toBe(401);
  });

  it('refuses bad requests with a 400 in the one error shape', async () => {
    const [a, b] = await logRuns(alice, makeRuns().slice(0, 2));
    for (const body of [
      { experimentIds: [a], name: 'loss' },
      { experimentIds: [a, b], name: 'loss', budget: 0 },
      { experimentIds: [a, b], name: 'loss', x: 'epochs' },
      { experimentIds: [a, b], name: 'loss', from: 10, to: 5 },
      { experimentIds: [a, b], name: 'loss', extra: 1 },
    ]) {
      const res = await call(server.app, alice, 'POST', '/api/metrics/band', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(errorCode(res)).toBe('VALIDATION_ERROR');
    }
  });
});
