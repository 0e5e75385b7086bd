import { describe, expect, it } from 'vitest';
import { EXPERIMENT_LIMITS, FILTER_LIMITS, MLFLOW_LIMITS } from '../src/lib/limits.js';
import { DIALECTS, call, errorCode, useTestServer, useUser } from './harness.js';

/** `n` AND-ed clauses, each on a key of its own (the shape that made PostgreSQL's planner explode). */
function manyClauses(n: number): string {
  const kinds = [(i: number) => `metrics.m${i} > -1`, (i: number) => `params.p${i} != 'x'`, (i: number) => `tags.t${i} != 'x'`];
  return Array.from({ length: n }, (_, i) => kinds[i % 3]!(i)).join(' and ');
}

describe.each(DIALECTS)('filters of many clauses on %s', (dialect) => {
  const server = useTestServer(dialect);
  const alice = useUser(server);
  const mlflow = (path: string, payload: object) =>
    server.app.inject({
      method: 'POST',
      url: `/api/2.0/mlflow${path}`,
      headers: { authorization: `Bearer ${alice.key}` },
      payload,
    });

  it(`refuses more than ${FILTER_LIMITS.clauses} clauses, naming the limit, in either error shape and at once`, async () => {
    const dashboard = await call(
      server.app,
      alice,
      'GET',
      `/api/experiments?filter=${encodeURIComponent(manyClauses(FILTER_LIMITS.clauses + 1))}`,
    );
    expect(dashboard.statusCode).toBe(400);
    expect(errorCode(dashboard)).toBe('VALIDATION_ERROR');
    expect(dashboard.json().error.message).toContain(`at most ${FILTER_LIMITS.clauses} clauses`);

    const started = performance.now();
    const search = await mlflow('/runs/search', { experiment_ids: [alice.defaultWorkspaceId], filter: manyClauses(400) });
    const took = performance.now() - started;
    expect(search.statusCode).toBe(400);
    expect(search.json()).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: expect.stringContaining(`at most ${FILTER_LIMITS.clauses} clauses`),
    });
    expect(took).toBeLessThan(500);
  });

  it(`answers ${FILTER_LIMITS.clauses} clauses on as many keys quickly (one grouped scan per store, not a subquery per clause)`, async () => {
    const run = await mlflow('/runs/create', { experiment_id: alice.defaultWorkspaceId });
    const runId = run.json().run.info.run_id as string;
    const n = FILTER_LIMITS.clauses;
    const logged = await mlflow('/runs/log-batch', {
      run_id: runId,
      metrics: Array.from({ length: n }, (_, i) => ({ key: `m${i}`, value: i, timestamp: 1, step: 0 })),
      params: Array.from({ length: n }, (_, i) => ({ key: `p${i}`, value: `v${i}` })),
      tags: Array.from({ length: n }, (_, i) => ({ key: `t${i}`, value: `v${i}` })),
    });
    expect(logged.statusCode, logged.body).toBe(200);
    // Before: PostgreSQL planned 30 such clauses for 3 s, 60 for a minute (the old shape's 50 took far past this bound).
    const started = performance.now();
    const search = await mlflow('/runs/search', { experiment_ids: [alice.defaultWorkspaceId], filter: manyClauses(n) });
    expect(performance.now() - started).toBeLessThan(3000);
    expect(search.statusCode, search.body).toBe(200);
    expect(search.json().runs.map((r: { info: { run_id: string } }) => r.info.run_id)).toEqual([runId]);
    const miss = await mlflow('/runs/search', {
      experiment_ids: [alice.defaultWorkspaceId],
      filter: `${manyClauses(n - 1)} and metrics.m0 > 0`,
    });
    expect(miss.json().runs ?? []).toEqual([]);
  });

  it('matches experiments/search LIKE in linear time: a name of 40 characters, a tag of 20,000', async () => {
    const created = await mlflow('/experiments/create', {
      name: 'a'.repeat(40),
      tags: [{ key: 'long', value: 'a'.repeat(20_000) }],
    });
    expect(created.statusCode, created.body).toBe(200);
    const id = created.json().experiment_id as string;
    const search = async (filter: string) => {
      const started = performance.now();
      const res = await mlflow('/experiments/search', { filter });
      expect(res.statusCode, res.body).toBe(200);
      // A translated regular expression took 20 s for the name and never answered for the tag.
      expect(performance.now() - started).toBeLessThan(1000);
      return ((res.json().experiments ?? []) as { experiment_id: string }[]).map((e) => e.experiment_id);
    };
    const hostile = `${'%a'.repeat(16)}%b`; // 34 characters
    expect(hostile).toHaveLength(34);
    expect(await search(`name LIKE '${hostile}'`)).toEqual([]);
    expect(await search(`tags.long ILIKE '${hostile}'`)).toEqual([]);
    expect(await search(`name LIKE '${'%a'.repeat(16)}%' and tags.long LIKE 'a%a'`)).toEqual([id]);
  });

  it(`refuses more than ${MLFLOW_LIMITS.orderByKeys} order_by keys in MLflow's shape`, async () => {
    const keys = (n: number) => Array.from({ length: n }, (_, i) => `metrics.m${i} DESC`);
    const ok = await mlflow('/runs/search', {
      experiment_ids: [alice.defaultWorkspaceId],
      order_by: keys(MLFLOW_LIMITS.orderByKeys),
    });
    expect(ok.statusCode, ok.body).toBe(200);
    const refused = await mlflow('/runs/search', {
      experiment_ids: [alice.defaultWorkspaceId],
      order_by: keys(MLFLOW_LIMITS.orderByKeys + 1),
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: expect.stringContaining(`at most ${MLFLOW_LIMITS.orderByKeys} keys`),
    });
  });

  it(`caps a run's params at Tora's ${EXPERIMENT_LIMITS.hyperparams} hyperparameters, through log-batch and log-parameter`, async () => {
    const run = await mlflow('/runs/create', { experiment_id: alice.defaultWorkspaceId });
    const runId = run.json().run.info.run_id as string;
    const params = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${from + i}`, value: 'v' }));
    for (let i = 0; i < EXPERIMENT_LIMITS.hyperparams; i += 100) {
      expect((await mlflow('/runs/log-batch', { run_id: runId, params: params(i, 100) })).statusCode).toBe(200);
    }
    const over = await mlflow('/runs/log-batch', {
      run_id: runId,
      params: params(EXPERIMENT_LIMITS.hyperparams - 1, 2), // one already logged, one new
      metrics: [{ key: 'loss', value: 1, timestamp: 1, step: 0 }],
    });
    expect(over.statusCode).toBe(400);
    expect(over.json()).toEqual({
      error_code: 'INVALID_PARAMETER_VALUE',
      message: expect.stringContaining(`at most ${EXPERIMENT_LIMITS.hyperparams} params`),
    });
    const one = await mlflow('/runs/log-parameter', { run_id: runId, key: 'one-more', value: 'v' });
    expect(one.statusCode).toBe(400);
    expect(one.json().error_code).toBe('INVALID_PARAMETER_VALUE');
    // Nothing of the refused requests was written; logging a known param again is still fine.
    expect((await mlflow('/runs/log-parameter', { run_id: runId, key: 'k0', value: 'v' })).statusCode).toBe(200);
    const got = await server.app.inject({
      method: 'GET',
      url: `/api/2.0/mlflow/runs/get?run_id=${runId}`,
      headers: { authorization: `Bearer ${alice.key}` },
    });
    expect(got.json().run.data.params).toHaveLength(EXPERIMENT_LIMITS.hyperparams);
    expect(got.json().run.data.metrics ?? []).toEqual([]);
  });
});

describe.each(DIALECTS)('a large runs/search on %s', (dialect) => {
  const server = useTestServer(dialect);
  const alice = useUser(server);
  const RUNS = 1_201; // more than one of the chunks answers are built in (a prime, so i * 7 % RUNS is a permutation)
  const mlflow = (path: string, payload: object) =>
    server.app.inject({
      method: 'POST',
      url: `/api/2.0/mlflow${path}`,
      headers: { authorization: `Bearer ${alice.key}` },
      payload,
    });

  it('answers every run with its own metrics, params and tags, in order, and pages', async () => {
    const experiment = (await mlflow('/experiments/create', { name: `large-${dialect}` })).json().experiment_id as string;
    const ids: string[] = new Array<string>(RUNS);
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < RUNS; i = next++) {
        const run = await mlflow('/runs/create', {
          experiment_id: experiment,
          start_time: 1_000_000 + i,
          tags: [{ key: 'nth', value: String(i) }],
        });
        ids[i] = run.json().run.info.run_id as string;
        const logged = await mlflow('/runs/log-batch', {
          run_id: ids[i],
          metrics: [{ key: 'score', value: (i * 7) % RUNS, timestamp: 1, step: 0 }],
          params: [{ key: 'i', value: String(i) }],
        });
        expect(logged.statusCode).toBe(200);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));

    type Run = {
      info: { run_id: string };
      data: {
        metrics: { key: string; value: number }[];
        params: { key: string; value: string }[];
        tags: { key: string; value: string }[];
      };
    };
    const all = await mlflow('/runs/search', { experiment_ids: [experiment], max_results: 50_000 });
    expect(all.statusCode).toBe(200);
    const runs = all.json().runs as Run[];
    expect(all.json().next_page_token).toBeUndefined();
    expect(runs.map((r) => r.info.run_id)).toEqual([...ids].reverse()); // newest start first
    runs.forEach((r) => {
      const i = ids.indexOf(r.info.run_id);
      expect(r.data.params).toEqual([{ key: 'i', value: String(i) }]);
      expect(r.data.metrics.map((m) => [m.key, m.value])).toEqual([['score', (i * 7) % RUNS]]);
      expect(r.data.tags.find((t) => t.key === 'nth')?.value).toBe(String(i));
    });

    const byScore = await mlflow('/runs/search', {
      experiment_ids: [experiment],
      max_results: 800,
      order_by: ['metrics.score ASC'],
    });
    const first = byScore.json().runs as Run[];
    expect(first).toHaveLength(800);
    expect(first.map((r) => r.data.metrics[0]!.value)).toEqual(Array.from({ length: 800 }, (_, k) => k));
    const rest = await mlflow('/runs/search', {
      experiment_ids: [experiment],
      max_results: 800,
      order_by: ['metrics.score ASC'],
      page_token: byScore.json().next_page_token,
    });
    expect((rest.json().runs as Run[]).map((r) => r.data.metrics[0]!.value)).toEqual(
      Array.from({ length: RUNS - 800 }, (_, k) => 800 + k),
    );
  }, 180_000);
});
