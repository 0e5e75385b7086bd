import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import type { Static } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import type { CompareResponse } from '../src/modules/compare/compare.schemas.js';
import {
  DIALECTS,
  addMember,
  call,
  createExperiment,
  createWorkspace,
  errorCode,
  useTestServer,
  useUser,
  type TestUser,
} from './harness.js';
import { declaredBody } from './route-schemas.js';

type CompareBody = Static<typeof CompareResponse>;

describe.each(DIALECTS)('compare API on %s', (dialect) => {
  const server = useTestServer(dialect);
  const alice = useUser(server);
  /** A compare answer, read through the route's declared schema (GET and POST declare the same). */
  const compared = (res: LightMyRequestResponse, method: 'GET' | 'POST' = 'GET') =>
    declaredBody<CompareBody>(server.app, res, `${method} /api/experiments/compare`);
  const bob = useUser(server);

  async function run(
    user: TestUser,
    lr: number,
    loss: number[],
    acc: number[],
    body: Record<string, unknown> = {},
  ): Promise<string> {
    const id = await createExperiment(server.app, user, { hyperparams: { lr }, ...body });
    const res = await call(server.app, user, 'POST', `/api/experiments/${id}/metrics/batch`, {
      series: { loss: { values: loss }, acc: { values: acc } },
    });
    expect(res.statusCode).toBe(201);
    return id;
  }

  it("names each run's group and MLflow tags, what the compare page bands runs by", async () => {
    const a = await run(alice, 0.1, [1, 2], [0.1, 0.2], { group: 'sweep' });
    const b = await run(alice, 0.01, [1, 2], [0.1, 0.2]);
    const tag = await call(server.app, alice, 'POST', '/api/2.0/mlflow/runs/set-tag', { run_id: a, key: 'seed', value: 's1' });
    expect(tag.statusCode).toBe(200);
    const res = await call(server.app, alice, 'GET', `/api/experiments/compare?ids=${a},${b}&metrics=loss`);
    expect(res.statusCode).toBe(200);
    const [ea, eb] = res.json<{ experiments: { group: string | null; runTags: Record<string, string> }[] }>().experiments;
    expect(ea).toMatchObject({ group: 'sweep', runTags: { seed: 's1' } });
    expect(eb).toMatchObject({ group: null, runTags: {} });
  });

  it('returns series, hyperparameters, last/best/bestStep and Δ against the reference', async () => {
    const a = await run(alice, 0.1, [4, 2, 1, 3], [0.1, 0.5, 0.9, 0.8]);
    const b = await run(alice, 0.01, [5, 4, 2, 2.5], [0.2, 0.3, 0.45, 0.6]);
    const res = await call(
      server.app,
      alice,
      'GET',
      `/api/experiments/compare?ids=${a},${b}&metrics=loss,acc&budget=800&referenceId=${b}`,
    );
    expect(res.statusCode).toBe(200);
    expect(res.headers['server-timing']).toMatch(/app;dur=/);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    const body = compared(res);
    expect(body.metrics).toEqual([
      { name: 'loss', direction: 'min' },
      { name: 'acc', direction: 'max' },
    ]);
    expect(body.experiments.map((e) => e.id)).toEqual([a, b]);
    expect(body.experiments[0]!.hyperparams).toEqual([{ key: 'lr', value: 0.1 }]);
    const aLoss = body.experiments[0]!.metrics.find((m) => m.name === 'loss')!;
    expect(aLoss).toMatchObject({ last: 3, best: 1, bestStep: 2 });
    expect(aLoss.delta).toMatchObject({ last: 0.5, lastPct: 20, best: -1, bestPct: -50, bestIsBetter: true });
    const aAcc = body.experiments[0]!.metrics.find((m) => m.name === 'acc')!;
    expect(aAcc).toMatchObject({ best: 0.9, bestStep: 2 });
    expect(aAcc.delta?.bestIsBetter).toBe(true);
    expect(aLoss.series.pointCount).toBe(4);
    // The reference compared with itself: zero deltas.
    expect(body.experiments[1]!.metrics.find((m) => m.name === 'loss')!.delta).toMatchObject({ last: 0, best: 0 });
  });

  it('buckets every experiment by wall time over one shared time range with x=time', async () => {
    const t0 = Date.UTC(2026, 0, 1);
    const ids: string[] = [];
    for (const offset of [0, 60_000]) {
      const id = await createExperiment(server.app, alice);
      const steps = Array.from({ length: 100 }, (_, i) => i);
      await call(server.app, alice, 'POST', `/api/experiments/${id}/metrics/batch`, {
        series: { loss: { steps, values: steps, times: steps.map((s) => t0 + offset + s * 1000) } },
      });
      ids.push(id);
    }
    const res = await call(
      server.app,
      alice,
      'GET',
      `/api/experiments/compare?ids=${ids.join(',')}&metrics=loss&budget=10&x=time`,
    );
    expect(res.statusCode).toBe(200);
    const [a, b] = compared(res).experiments.map((e) => e.metrics[0]!.series as unknown as Record<string, unknown>);
    // Both share [t0, t0 + 60 s + 99 s]; the first run fills the early buckets, the second the late ones.
    expect(a).toMatchObject({ x: 'time', from: t0, to: t0 + 159_000, pointCount: 100 });
    expect(b).toMatchObject({ x: 'time', from: t0, to: t0 + 159_000, pointCount: 100 });
    const firstOf = (s: Record<string, unknown>) => (s.buckets as { firstStep: number[] }).firstStep[0];
    expect(firstOf(a!)).toBe(t0);
    expect(firstOf(b!)).toBe(t0 + 60_000);
  });

  it('returns the same buckets as the single-series read', async () => {
    const values = Array.from({ length: 5000 }, (_, i) => Math.exp(-i / 1000) + (i === 1234 ? 5 : 0));
    const a = await run(alice, 0.1, values, values);
    const single = await call(server.app, alice, 'GET', `/api/experiments/${a}/metrics/series?name=loss&budget=50`);
    const compare = await call(server.app, alice, 'POST', '/api/experiments/compare', {
      ids: [a],
      metrics: ['loss'],
      budget: 50,
    });
    expect(compare.statusCode).toBe(200);
    expect(compared(compare, 'POST').experiments[0]!.metrics[0]!.series).toEqual(single.json());
  });

  it('snaps a budget just too fine for window summaries to window-aligned buckets, keeping spikes', async () => {
    const values = Array.from({ length: 12_800 }, (_, i) => Math.exp(-i / 3000));
    values[7777] = 50;
    const a = await run(alice, 0.1, values, values);
    const res = await call(server.app, alice, 'GET', `/api/experiments/compare?ids=${a}&metrics=loss&budget=110`);
    const series = compared(res).experiments[0]!.metrics[0]!.series;
    expect(series.budget).toBeLessThanOrEqual(110);
    expect(series.budget).toBeGreaterThanOrEqual(50);
    expect(series.pointCount).toBe(12_800);
    const k = series.buckets.maxValue.indexOf(50);
    expect(series.buckets.maxStep[k]).toBe(7777);
  });

  it('defaults to the shared metrics and uses workspace direction overrides', async () => {
    const ws = await createWorkspace(server.app, alice, 'directions');
    const a = await run(alice, 1, [1, 2, 3], [3, 2, 1], { workspaceId: ws });
    const put = await call(server.app, alice, 'PUT', `/api/workspaces/${ws}/metric-directions`, { loss: 'max' });
    expect(put.statusCode).toBe(200);
    const body = compared(await call(server.app, alice, 'GET', `/api/experiments/compare?ids=${a}`));
    expect(body.metrics).toEqual([
      { name: 'acc', direction: 'max' },
      { name: 'loss', direction: 'max' },
    ]);
    expect(body.experiments[0]!.metrics.find((m) => m.name === 'loss')).toMatchObject({ best: 3, bestStep: 2 });
  });

  it("picks the user's metrics before system/*, and names every metric the runs have", async () => {
    const id = await createExperiment(server.app, alice);
    const series: Record<string, { values: number[] }> = {};
    // 30 system samples sort before "val/…" by name, and 25 user metrics: more than the 20 picked.
    for (let i = 0; i < 30; i++) series[`system/gpu${String(i).padStart(2, '0')}`] = { values: [i] };
    for (let i = 0; i < 25; i++) series[`val/m${String(i).padStart(2, '0')}`] = { values: [i] };
    expect((await call(server.app, alice, 'POST', `/api/experiments/${id}/metrics/batch`, { series })).statusCode).toBe(201);
    const body = compared(await call(server.app, alice, 'GET', `/api/experiments/compare?ids=${id}&budget=10`));
    expect(body.metrics.map((m) => m.name)).toEqual(Array.from({ length: 20 }, (_, i) => `val/m${String(i).padStart(2, '0')}`));
    expect(body.availableMetrics).toHaveLength(55);
    expect(body.availableMetrics.slice(0, 25).every((n) => n.startsWith('val/'))).toBe(true);
    expect(body.availableMetrics.slice(25).every((n) => n.startsWith('system/'))).toBe(true);
    // Naming metrics still lists every one the runs have.
    const named = compared(
      await call(server.app, alice, 'GET', `/api/experiments/compare?ids=${id}&budget=10&metrics=system/gpu03`),
    );
    expect(named.metrics.map((m) => m.name)).toEqual(['system/gpu03']);
    expect(named.availableMetrics).toHaveLength(55);
  });

  it('is 404 for any experiment the caller cannot read, without telling missing from foreign', async () => {
    const mine = await run(alice, 1, [1], [1]);
    const theirs = await run(bob, 1, [1], [1]);
    const foreign = await call(server.app, alice, 'GET', `/api/experiments/compare?ids=${mine},${theirs}`);
    const missing = await call(server.app, alice, 'GET', `/api/experiments/compare?ids=${mine},${randomUUID()}`);
    expect(foreign.statusCode).toBe(404);
    expect(missing.statusCode).toBe(404);
    expect(errorCode(foreign)).toBe('EXPERIMENT_NOT_FOUND');
    expect(foreign.json().error.message.replace(theirs, 'X')).toBe(missing.json().error.message.replace(/[0-9a-f-]{36}/, 'X'));
    const asRef = await call(server.app, alice, 'GET', `/api/experiments/compare?ids=${mine}&referenceId=${theirs}`);
    expect(asRef.statusCode).toBe(404);
    expect((await call(server.app, null, 'GET', `/api/experiments/compare?ids=${mine}`)).statusCode).toBe(401);
  });

  it('lets a viewer of the workspace compare', async () => {
    const ws = await createWorkspace(server.app, alice, 'shared');
    await addMember(server.app, alice, ws, bob, 'viewer');
    const a = await run(alice, 1, [1, 2], [1, 2], { workspaceId: ws });
    expect((await call(server.app, bob, 'GET', `/api/experiments/compare?ids=${a}`)).statusCode).toBe(200);
  });

  it('refuses bad ids, too many ids and a reversed range with 400', async () => {
    const a = await run(alice, 1, [1], [1]);
    expect(errorCode(await call(server.app, alice, 'GET', `/api/experiments/compare?ids=${a},nope`))).toBe('VALIDATION_ERROR');
    const many = Array.from({ length: 51 }, () => randomUUID()).join(',');
    expect((await call(server.app, alice, 'GET', `/api/experiments/compare?ids=${many}`)).statusCode).toBe(400);
    expect((await call(server.app, alice, 'GET', `/api/experiments/compare?ids=${a}&from=10&to=5`)).statusCode).toBe(400);
    expect((await call(server.app, alice, 'POST', '/api/experiments/compare', { ids: [a], extra: 1 })).statusCode).toBe(400);
  });
});
