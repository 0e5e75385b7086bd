import type { Static } from '@sinclair/typebox';
import type { LightMyRequestResponse } from 'fastify';
import { describe, expect, it } from 'vitest';
import type { RunResponse, SearchRunsResponse } from '../src/modules/mlflow/mlflow.schemas.js';
import { DIALECTS, addMember, call, createWorkspace, signUp, useTestServer, useUser, type TestUser } from './harness.js';
import { declaredBody } from './route-schemas.js';

const BASE = '/api/2.0/mlflow';

describe.each(DIALECTS)('MLflow tracking API on %s', (dialect) => {
  const server = useTestServer(dialect);
  const alice = useUser(server);

  const ml = (user: TestUser | { key: string } | null, method: 'GET' | 'POST', path: string, body?: Record<string, unknown>) => {
    const headers: Record<string, string> = user ? { authorization: `Bearer ${user.key}` } : {};
    if (method === 'GET') {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(body ?? {})) for (const x of Array.isArray(v) ? v : [v]) qs.append(k, String(x));
      return server.app.inject({ method, url: `${BASE}${path}?${qs.toString()}`, headers });
    }
    return server.app.inject({ method, url: `${BASE}${path}`, headers, payload: body ?? {} });
  };

  const mlError = (res: LightMyRequestResponse): string => {
    const body = res.json<{ error_code?: unknown; message?: unknown }>();
    if (typeof body.error_code !== 'string' || typeof body.message !== 'string')
      throw new Error(`not MLflow's error shape: ${res.body}`);
    return body.error_code;
  };

  async function newExperiment(user: TestUser, name = `exp-${Math.random().toString(36).slice(2)}`): Promise<string> {
    const res = await ml(user, 'POST', '/experiments/create', { name });
    expect(res.statusCode).toBe(200);
    return res.json<{ experiment_id: string }>().experiment_id;
  }

  async function newRun(user: TestUser, experimentId: string, extra: Record<string, unknown> = {}): Promise<string> {
    const res = await ml(user, 'POST', '/runs/create', { experiment_id: experimentId, start_time: 1_700_000_000_000, ...extra });
    expect(res.statusCode).toBe(200);
    return declaredBody<Static<typeof RunResponse>>(server.app, res, `POST ${BASE}/runs/create`).run.info.run_id;
  }

  /** runs/get, read through the route's declared schema. */
  async function getRun(user: TestUser, runId: string) {
    const res = await ml(user, 'GET', '/runs/get', { run_id: runId });
    return declaredBody<Static<typeof RunResponse>>(server.app, res, `GET ${BASE}/runs/get`).run;
  }

  it('maps an experiment to a workspace: create, get-by-name 404 then found, and the workspace exists in Tora', async () => {
    const missing = await ml(alice, 'GET', '/experiments/get-by-name', { experiment_name: 'vision' });
    expect(missing.statusCode).toBe(404);
    expect(mlError(missing)).toBe('RESOURCE_DOES_NOT_EXIST');
    const id = await newExperiment(alice, 'vision');
    const found = await ml(alice, 'GET', '/experiments/get-by-name', { experiment_name: 'vision' });
    expect(found.json().experiment).toMatchObject({ experiment_id: id, name: 'vision', lifecycle_stage: 'active' });
    const ws = await call(server.app, alice, 'GET', `/api/workspaces/${id}`);
    expect(ws.statusCode).toBe(200);
    expect(ws.json()).toMatchObject({ name: 'vision' });
    const again = await ml(alice, 'POST', '/experiments/create', { name: 'vision' });
    expect(again.statusCode).toBe(400);
    expect(mlError(again)).toBe('RESOURCE_ALREADY_EXISTS');
  });

  it('experiment "0" is the caller\'s default workspace, and reads back as "0" (its runs too)', async () => {
    const res = await ml(alice, 'GET', '/experiments/get', { experiment_id: '0' });
    expect(res.statusCode).toBe(200);
    expect(res.json().experiment.experiment_id).toBe('0');
    // Its real id names it too, and reads as "0" as well; its files keep the real id (a path).
    const byId = (await ml(alice, 'GET', '/experiments/get', { experiment_id: alice.defaultWorkspaceId })).json();
    expect(byId.experiment.experiment_id).toBe('0');
    expect(byId.experiment.artifact_location).toBe(`mlflow-artifacts:/${alice.defaultWorkspaceId}`);
    const created = await ml(alice, 'POST', '/runs/create', { experiment_id: '0', start_time: 1_700_000_000_000 });
    expect(created.json().run.info.experiment_id).toBe('0');
    const runId: string = created.json().run.info.run_id;
    const got = (await ml(alice, 'GET', '/runs/get', { run_id: runId })).json().run.info;
    expect(got.experiment_id).toBe('0');
    expect(got.artifact_uri).toBe(`mlflow-artifacts:/${alice.defaultWorkspaceId}/${runId}/artifacts`);
    const searched = (await ml(alice, 'POST', '/runs/search', { experiment_ids: ['0'] })).json().runs;
    expect(searched.map((r: { info: { experiment_id: string } }) => r.info.experiment_id)).toEqual(['0']);
    const listed = (await ml(alice, 'POST', '/experiments/search', {})).json().experiments;
    expect(listed.map((e: { experiment_id: string }) => e.experiment_id)).toContain('0');
    expect(listed.map((e: { experiment_id: string }) => e.experiment_id)).not.toContain(alice.defaultWorkspaceId);
    const model = (await ml(alice, 'POST', '/logged-models', { experiment_id: '0', source_run_id: runId })).json().model;
    expect(model.info.experiment_id).toBe('0');
    // Tora's own API answers the workspace's real id.
    const exp = await call(server.app, alice, 'GET', `/api/experiments/${runId}`);
    expect(exp.json().workspaceId).toBe(alice.defaultWorkspaceId);
    // Another member of that workspace sees its real id: "0" is each caller's own default.
    const bob = await signUp(server.app);
    await addMember(server.app, alice, alice.defaultWorkspaceId, bob, 'viewer');
    const bobs = (await ml(bob, 'GET', '/runs/get', { run_id: runId })).json().run.info;
    expect(bobs.experiment_id).toBe(alice.defaultWorkspaceId);
  });

  it('a run is a Tora experiment: params, metrics (NaN/Inf), tags and status round-trip, and Tora sees the same data', async () => {
    const exp = await newExperiment(alice);
    const runId = await newRun(alice, exp, { run_name: 'resnet', tags: [{ key: 'mlflow.user', value: 'ada' }] });
    const batch = {
      run_id: runId,
      params: [
        { key: 'lr', value: '0.1' },
        { key: 'opt', value: 'adam' },
      ],
      tags: [{ key: 'team', value: 'vision' }],
      metrics: [
        { key: 'loss', value: 1.5, timestamp: 1_700_000_000_100, step: 0 },
        { key: 'loss', value: 'NaN', timestamp: 1_700_000_000_200, step: 1 },
        { key: 'loss', value: 'Infinity', timestamp: 1_700_000_000_300, step: 2 },
        { key: 'loss', value: '-Infinity', timestamp: 1_700_000_000_400, step: 3 },
        { key: 'val/acc', value: 0.25, timestamp: 1_700_000_000_500, step: 3 },
      ],
    };
    expect((await ml(alice, 'POST', '/runs/log-batch', batch)).statusCode).toBe(200);
    const upd = await ml(alice, 'POST', '/runs/update', { run_id: runId, status: 'FINISHED', end_time: 1_700_000_009_000 });
    expect(upd.statusCode).toBe(200);
    expect(upd.json().run_info).toMatchObject({ status: 'FINISHED', end_time: 1_700_000_009_000 });

    const run = await getRun(alice, runId);
    expect(run.info).toMatchObject({
      run_id: runId,
      experiment_id: exp,
      run_name: 'resnet',
      user_id: 'ada',
      start_time: 1_700_000_000_000,
    });
    expect(run.info.artifact_uri).toContain(runId);
    expect(run.data.params).toEqual([
      { key: 'lr', value: '0.1' },
      { key: 'opt', value: 'adam' },
    ]);
    expect(run.data.tags).toEqual(
      expect.arrayContaining([
        { key: 'team', value: 'vision' },
        { key: 'mlflow.user', value: 'ada' },
        { key: 'mlflow.runName', value: 'resnet' },
      ]),
    );
    expect(run.data.metrics).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: 'loss', value: '-Infinity', step: 3 }),
        expect.objectContaining({ key: 'val/acc', value: 0.25, step: 3 }),
      ]),
    );
    const history = (await ml(alice, 'GET', '/metrics/get-history', { run_id: runId, metric_key: 'loss' })).json();
    expect(history.metrics).toEqual([
      { key: 'loss', value: 1.5, timestamp: 1_700_000_000_100, step: 0 },
      { key: 'loss', value: 'NaN', timestamp: 1_700_000_000_200, step: 1 },
      { key: 'loss', value: 'Infinity', timestamp: 1_700_000_000_300, step: 2 },
      { key: 'loss', value: '-Infinity', timestamp: 1_700_000_000_400, step: 3 },
    ]);

    const tora = (await call(server.app, alice, 'GET', `/api/experiments/${runId}`)).json();
    expect(tora).toMatchObject({ name: 'resnet', status: 'finished', workspaceId: exp });
    expect(tora.hyperparams).toEqual([
      { key: 'lr', value: '0.1' },
      { key: 'opt', value: 'adam' },
    ]);
    const raw = (await call(server.app, alice, 'GET', `/api/experiments/${runId}/metrics/raw?name=loss`)).json();
    expect(raw.points.map((p: { value: unknown }) => p.value)).toEqual([1.5, 'NaN', 'Infinity', '-Infinity']);
    expect(raw.points[0].time).toBe(new Date(1_700_000_000_100).toISOString());
  });

  it("maps each status both ways: KILLED is Tora's crashed, FAILED failed", async () => {
    const exp = await newExperiment(alice);
    for (const [mlflow, tora] of [
      ['FINISHED', 'finished'],
      ['FAILED', 'failed'],
      ['KILLED', 'crashed'],
      ['RUNNING', 'running'],
    ] as const) {
      const runId = await newRun(alice, exp);
      await ml(alice, 'POST', '/runs/update', { run_id: runId, status: mlflow });
      expect((await call(server.app, alice, 'GET', `/api/experiments/${runId}`)).json().status).toBe(tora);
      expect((await getRun(alice, runId)).info.status).toBe(mlflow);
    }
  });

  it('a retried identical log-batch stores its points once; a different batch is stored', async () => {
    const runId = await newRun(alice, await newExperiment(alice));
    const metrics = Array.from({ length: 1000 }, (_, i) => ({
      key: `m${i % 10}`,
      value: i,
      timestamp: 1_700_000_000_000 + i,
      step: Math.floor(i / 10),
    }));
    for (let attempt = 0; attempt < 3; attempt++) {
      expect((await ml(alice, 'POST', '/runs/log-batch', { run_id: runId, metrics })).statusCode).toBe(200);
    }
    const summaries = (await call(server.app, alice, 'GET', `/api/experiments/${runId}/metrics`)).json().metrics;
    expect(summaries.map((s: { count: number }) => s.count)).toEqual(Array(10).fill(100));
    const next = metrics.map((m) => ({ ...m, step: m.step + 100 }));
    await ml(alice, 'POST', '/runs/log-batch', { run_id: runId, metrics: next });
    const after = (await call(server.app, alice, 'GET', `/api/experiments/${runId}/metrics`)).json().metrics;
    expect(after.map((s: { count: number }) => s.count)).toEqual(Array(10).fill(200));
  });

  it('params are immutable: the same value again is fine, a new value refuses the whole request', async () => {
    const runId = await newRun(alice, await newExperiment(alice));
    expect((await ml(alice, 'POST', '/runs/log-parameter', { run_id: runId, key: 'lr', value: '0.1' })).statusCode).toBe(200);
    expect((await ml(alice, 'POST', '/runs/log-parameter', { run_id: runId, key: 'lr', value: '0.1' })).statusCode).toBe(200);
    const changed = await ml(alice, 'POST', '/runs/log-batch', {
      run_id: runId,
      params: [{ key: 'lr', value: '0.2' }],
      metrics: [{ key: 'loss', value: 1, timestamp: 1, step: 0 }],
      tags: [{ key: 't', value: 'v' }],
    });
    expect(changed.statusCode).toBe(400);
    expect(mlError(changed)).toBe('INVALID_PARAMETER_VALUE');
    expect(changed.json().message).toContain('Changing param values is not allowed');
    const run = await getRun(alice, runId);
    expect(run.data.params).toEqual([{ key: 'lr', value: '0.1' }]);
    expect(run.data.metrics).toEqual([]);
    expect(run.data.tags.find((t: { key: string }) => t.key === 't')).toBeUndefined();
  });

  it('a negative step is stored with the rest of its batch; history and bulk-interval read it back in step order', async () => {
    const runId = await newRun(alice, await newExperiment(alice));
    const res = await ml(alice, 'POST', '/runs/log-batch', {
      run_id: runId,
      params: [{ key: 'lr', value: '0.1' }],
      metrics: [
        { key: 'loss', value: 3, timestamp: 1_700_000_000_000, step: -1 },
        { key: 'loss', value: 2, timestamp: 1_700_000_000_001, step: 0 },
        { key: 'loss', value: 1, timestamp: 1_700_000_000_002, step: -(2 ** 40) },
        { key: 'acc', value: 0.5, timestamp: 1_700_000_000_003, step: 4 },
      ],
    });
    expect(res.statusCode).toBe(200);
    const run = await getRun(alice, runId);
    expect(run.data.params).toEqual([{ key: 'lr', value: '0.1' }]);
    expect(run.data.metrics).toEqual(expect.arrayContaining([expect.objectContaining({ key: 'acc', value: 0.5, step: 4 })]));
    const history = (await ml(alice, 'GET', '/metrics/get-history', { run_id: runId, metric_key: 'loss' })).json();
    expect(history.metrics.map((m: { step: number }) => m.step)).toEqual([-(2 ** 40), -1, 0]);
    const interval = await ml(alice, 'GET', '/metrics/get-history-bulk-interval', {
      run_ids: runId,
      metric_key: 'loss',
      start_step: -5,
      end_step: 5,
      max_results: 10,
    });
    expect(interval.statusCode).toBe(200);
    expect(interval.json().metrics.map((m: { step: number; value: number }) => [m.step, m.value])).toEqual([
      [-1, 3],
      [0, 2],
    ]);
  });

  it("log-batch limits answer with MLflow's error code, and nothing is written", async () => {
    const runId = await newRun(alice, await newExperiment(alice));
    const cases: [string, Record<string, unknown>][] = [
      ['1001 metrics', { metrics: Array.from({ length: 1001 }, (_, i) => ({ key: 'm', value: i, timestamp: 1, step: i })) }],
      ['101 params', { params: Array.from({ length: 101 }, (_, i) => ({ key: `p${i}`, value: 'x' })) }],
      ['101 tags', { tags: Array.from({ length: 101 }, (_, i) => ({ key: `t${i}`, value: 'x' })) }],
      ['a 6001-character param', { params: [{ key: 'p', value: 'x'.repeat(6001) }] }],
      ['an 8001-character tag', { tags: [{ key: 't', value: 'x'.repeat(8001) }] }],
      ['a 251-character key', { metrics: [{ key: 'k'.repeat(251), value: 1, timestamp: 1, step: 0 }] }],
      ['a value that is not a number', { metrics: [{ key: 'm', value: 'abc', timestamp: 1, step: 0 }] }],
      ['a metric without timestamp', { metrics: [{ key: 'm', value: 1, step: 0 }] }],
      ['a fractional step', { metrics: [{ key: 'm', value: 1, timestamp: 1, step: 1.5 }] }],
      ['a metric name with ..', { metrics: [{ key: 'val/../loss', value: 1, timestamp: 1, step: 0 }] }],
      ['a metric name with //', { metrics: [{ key: 'val//loss', value: 1, timestamp: 1, step: 0 }] }],
    ];
    for (const [what, body] of cases) {
      const res = await ml(alice, 'POST', '/runs/log-batch', { run_id: runId, ...body });
      expect(res.statusCode, what).toBe(400);
      expect(mlError(res), what).toBe('INVALID_PARAMETER_VALUE');
    }
    const run = await getRun(alice, runId);
    expect(run.data).toEqual({ metrics: [], params: [], tags: [expect.objectContaining({ key: 'mlflow.runName' })] });
    const noRun = await ml(alice, 'POST', '/runs/log-batch', { metrics: [] });
    expect(mlError(noRun)).toBe('INVALID_PARAMETER_VALUE');
  });

  it("auth: Bearer and Basic (key as password) work; no key is 401, a bad key 401, in MLflow's shape", async () => {
    const basic = Buffer.from(`anyone:${alice.key}`).toString('base64');
    const viaBasic = await server.app.inject({
      method: 'GET',
      url: `${BASE}/experiments/get?experiment_id=0`,
      headers: { authorization: `Basic ${basic}` },
    });
    expect(viaBasic.statusCode).toBe(200);
    const anonymous = await ml(null, 'GET', '/experiments/get', { experiment_id: '0' });
    expect(anonymous.statusCode).toBe(401);
    expect(mlError(anonymous)).toBe('UNAUTHENTICATED');
    const bad = await ml({ key: 'tora_nope' }, 'GET', '/experiments/get', { experiment_id: '0' });
    expect(bad.statusCode).toBe(401);
    expect(mlError(bad)).toBe('UNAUTHENTICATED');
    const ajax = await server.app.inject({
      method: 'GET',
      url: `/ajax-api/2.0/mlflow/experiments/get?experiment_id=0`,
      headers: { authorization: `Bearer ${alice.key}` },
    });
    expect(ajax.statusCode).toBe(200);
  });

  it('roles: a viewer reads but cannot log (403 PERMISSION_DENIED); a non-member gets 404', async () => {
    const bob = await signUp(server.app);
    const carol = await signUp(server.app);
    const ws = await createWorkspace(server.app, alice, 'shared');
    await addMember(server.app, alice, ws, bob, 'viewer');
    const runId = await newRun(alice, ws);
    expect((await ml(bob, 'GET', '/runs/get', { run_id: runId })).statusCode).toBe(200);
    const write = await ml(bob, 'POST', '/runs/log-metric', { run_id: runId, key: 'loss', value: 1, timestamp: 1, step: 0 });
    expect(write.statusCode).toBe(403);
    expect(mlError(write)).toBe('PERMISSION_DENIED');
    const create = await ml(bob, 'POST', '/runs/create', { experiment_id: ws });
    expect(mlError(create)).toBe('PERMISSION_DENIED');
    const stranger = await ml(carol, 'GET', '/runs/get', { run_id: runId });
    expect(stranger.statusCode).toBe(404);
    expect(mlError(stranger)).toBe('RESOURCE_DOES_NOT_EXIST');
    expect(mlError(await ml(carol, 'GET', '/experiments/get', { experiment_id: ws }))).toBe('RESOURCE_DOES_NOT_EXIST');
    const search = await ml(carol, 'POST', '/runs/search', { experiment_ids: [ws] });
    expect(mlError(search)).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  it('search: filter grammar, order_by, max_results and page_token', async () => {
    const exp = await newExperiment(alice);
    const specs = [
      { name: 'a', lr: '0.1', acc: 0.95, team: 'vision', status: 'FINISHED' },
      { name: 'b', lr: '0.01', acc: 0.91, team: 'nlp', status: 'FINISHED' },
      { name: 'c', lr: '0.001', acc: 0.5, team: 'vision', status: 'FAILED' },
      { name: 'd', lr: '0.1', acc: 0.99, team: 'Vision-2', status: 'RUNNING' },
    ];
    for (const [i, s] of specs.entries()) {
      const runId = await newRun(alice, exp, { run_name: s.name, start_time: 1_700_000_000_000 + i });
      await ml(alice, 'POST', '/runs/log-batch', {
        run_id: runId,
        params: [{ key: 'lr', value: s.lr }],
        tags: [{ key: 'team', value: s.team }],
        metrics: [{ key: 'val/acc', value: s.acc, timestamp: 1, step: 0 }],
      });
      await ml(alice, 'POST', '/runs/update', { run_id: runId, status: s.status });
    }
    const names = async (filter: string, order_by: string[] = ['attributes.run_name ASC']) => {
      const res = await ml(alice, 'POST', '/runs/search', { experiment_ids: [exp], filter, order_by });
      expect(res.statusCode, res.body).toBe(200);
      const { runs } = declaredBody<Static<typeof SearchRunsResponse>>(server.app, res, `POST ${BASE}/runs/search`);
      return runs.map((r) => r.info.run_name);
    };
    expect(await names("metrics.`val/acc` > 0.9 and params.lr = '0.1'")).toEqual(['a', 'd']);
    expect(await names('metrics.val/acc > 0.9')).toEqual(['a', 'b', 'd']);
    expect(await names("tags.team = 'vision' and attributes.status = 'FINISHED'")).toEqual(['a']);
    expect(await names("tags.team LIKE 'vis%'")).toEqual(['a', 'c']);
    expect(await names("tags.team ILIKE 'vis%'")).toEqual(['a', 'c', 'd']);
    expect(await names("attributes.status IN ('FAILED', 'RUNNING')")).toEqual(['c', 'd']);
    expect(await names("attributes.status NOT IN ('FAILED', 'RUNNING')")).toEqual(['a', 'b']);
    expect(await names('params.lr < 0.05')).toEqual(['b', 'c']);
    expect(await names("params.lr != '0.1'")).toEqual(['b', 'c']);
    expect(await names("attributes.run_name = 'b'")).toEqual(['b']);
    expect(await names('metrics.`val/acc` <= 0.5')).toEqual(['c']);
    expect(await names('', ['metrics.`val/acc` DESC'])).toEqual(['d', 'a', 'b', 'c']);
    expect(await names('', [])).toEqual(['d', 'c', 'b', 'a']); // start_time DESC by default
    const bad = await ml(alice, 'POST', '/runs/search', { experiment_ids: [exp], filter: 'metrics.acc >' });
    expect(bad.statusCode).toBe(400);
    expect(mlError(bad)).toBe('INVALID_PARAMETER_VALUE');
    expect(mlError(await ml(alice, 'POST', '/runs/search', { experiment_ids: [exp], filter: "metrics.acc = 'x'" }))).toBe(
      'INVALID_PARAMETER_VALUE',
    );

    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = (
        await ml(alice, 'POST', '/runs/search', {
          experiment_ids: [exp],
          max_results: 3,
          order_by: ['attributes.run_name'],
          page_token: token,
        })
      ).json();
      seen.push(...page.runs.map((r: { info: { run_name: string } }) => r.info.run_name));
      token = page.next_page_token;
    } while (token);
    expect(seen).toEqual(['a', 'b', 'c', 'd']);
  });

  it('get-history answers a page in step order, then time, whatever order the points arrived in', async () => {
    // MLflow's async logging sends its batches from a thread pool: a later step can arrive first.
    const runId = await newRun(alice, await newExperiment(alice));
    await ml(alice, 'POST', '/runs/log-batch', {
      run_id: runId,
      metrics: [{ key: 'loss', value: 0.3, timestamp: 3000, step: 6 }],
    });
    await ml(alice, 'POST', '/runs/log-batch', {
      run_id: runId,
      metrics: [
        { key: 'loss', value: 0.5, timestamp: 1000, step: 2 },
        { key: 'loss', value: 0.4, timestamp: 2000, step: 4 },
        { key: 'loss', value: 0.45, timestamp: 2000, step: 3 },
        { key: 'loss', value: 0.35, timestamp: 0, step: 5 },
        { key: 'loss', value: 0.44, timestamp: 1500, step: 3 },
      ],
    });
    const history = (await ml(alice, 'GET', '/metrics/get-history', { run_id: runId, metric_key: 'loss' })).json();
    expect(history.metrics.map((m: { step: number; value: number }) => [m.step, m.value])).toEqual([
      [2, 0.5],
      [3, 0.44],
      [3, 0.45],
      [4, 0.4],
      [5, 0.35],
      [6, 0.3],
    ]);
  });

  it('get-history pages past max_results and answers an unknown metric with an empty history', async () => {
    const runId = await newRun(alice, await newExperiment(alice));
    const metrics = Array.from({ length: 1000 }, (_, i) => ({ key: 'loss', value: 1 / (i + 1), timestamp: 1000 + i, step: i }));
    await ml(alice, 'POST', '/runs/log-batch', { run_id: runId, metrics: metrics.slice(0, 500) });
    await ml(alice, 'POST', '/runs/log-batch', { run_id: runId, metrics: metrics.slice(500) });
    const steps: number[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const res = await ml(alice, 'GET', '/metrics/get-history', {
        run_id: runId,
        metric_key: 'loss',
        max_results: 300,
        ...(token ? { page_token: token } : {}),
      });
      expect(res.statusCode).toBe(200);
      steps.push(...res.json().metrics.map((m: { step: number }) => m.step));
      token = res.json().next_page_token;
      pages++;
    } while (token);
    expect(pages).toBeGreaterThanOrEqual(4);
    expect(steps).toEqual(metrics.map((m) => m.step));
    const none = await ml(alice, 'GET', '/metrics/get-history', { run_id: runId, metric_key: 'nope' });
    expect(none.json()).toEqual({ metrics: [] });
    const interval = await ml(alice, 'GET', '/metrics/get-history-bulk-interval', {
      run_ids: [runId],
      metric_key: 'loss',
      max_results: 50,
    });
    expect(interval.statusCode).toBe(200);
    // MLflow's sampling: every 20th of the 1,000 steps, and the last; each point's own timestamp.
    const got = interval.json().metrics as { step: number; run_id: string; timestamp: number; value: number }[];
    expect(got.map((m) => m.step)).toEqual([...Array.from({ length: 50 }, (_, i) => i * 20), 999]);
    expect(got.every((m) => m.run_id === runId && m.timestamp === 1000 + m.step && m.value === 1 / (m.step + 1))).toBe(true);
  });

  it("get-history-bulk-interval samples MLflow's steps across runs, with each point's timestamp", async () => {
    const exp = await newExperiment(alice);
    const [one, two] = [await newRun(alice, exp), await newRun(alice, exp)];
    const history = (n: number) => Array.from({ length: n }, (_, i) => ({ key: 'm', value: 10 + i, timestamp: 1, step: i }));
    await ml(alice, 'POST', '/runs/log-batch', { run_id: one, metrics: history(10) });
    const interval = (q: Record<string, unknown>) =>
      ml(alice, 'GET', '/metrics/get-history-bulk-interval', { metric_key: 'm', max_results: 5, ...q });
    const steps = async (q: Record<string, unknown>) =>
      ((await interval(q)).json().metrics as { run_id: string; step: number }[]).map((m) => [m.run_id, m.step]);
    const full = (await interval({ run_ids: [one] })).json().metrics;
    expect(full).toEqual([0, 2, 4, 6, 8, 9].map((step) => ({ run_id: one, key: 'm', value: 10 + step, timestamp: 1, step })));
    expect(await steps({ run_ids: [one], start_step: 0, end_step: 4 })).toEqual([0, 1, 2, 3, 4].map((s) => [one, s]));
    // Two runs: the union of their steps sampled (0..19 every 4th, and 19), plus each run's first
    // and last step (9 of the shorter one); each run in the order asked.
    await ml(alice, 'POST', '/runs/log-batch', { run_id: two, metrics: history(20) });
    expect(await steps({ run_ids: [one, two] })).toEqual([
      ...[0, 4, 8, 9].map((s) => [one, s]),
      ...[0, 4, 8, 9, 12, 16, 19].map((s) => [two, s]),
    ]);
    expect(await steps({ run_ids: [two, one] })).toEqual([
      ...[0, 4, 8, 9, 12, 16, 19].map((s) => [two, s]),
      ...[0, 4, 8, 9].map((s) => [one, s]),
    ]);
    // Points logged twice at one step: both answered, by time.
    await ml(alice, 'POST', '/runs/log-batch', { run_id: one, metrics: [{ key: 'm', value: -1, timestamp: 0, step: 9 }] });
    const twice = (await interval({ run_ids: [one], start_step: 9, end_step: 9 })).json().metrics;
    expect(twice.map((m: { value: number; timestamp: number }) => [m.value, m.timestamp])).toEqual([
      [-1, 0],
      [19, 1],
    ]);
  });

  it('get-history-bulk-interval of a series past 100,000 points reads its window summaries, first and last step kept', async () => {
    const runId = await newRun(alice, await newExperiment(alice));
    const n = 100_001;
    const steps = Array.from({ length: n }, (_, i) => i);
    const res = await call(server.app, alice, 'POST', `/api/experiments/${runId}/metrics/batch`, {
      series: { big: { steps, values: steps.map((s) => s / 2) } },
    });
    expect(res.statusCode).toBeLessThan(300);
    const got = (
      await ml(alice, 'GET', '/metrics/get-history-bulk-interval', { run_ids: runId, metric_key: 'big', max_results: 320 })
    ).json().metrics as { step: number; value: number }[];
    // At most max_results points (MLflow's exact sampling would answer 321: 320 and the last).
    expect(got.length).toBeLessThanOrEqual(320);
    expect(got.length).toBeGreaterThan(100);
    expect(got[0]).toMatchObject({ step: 0, value: 0 });
    expect(got.at(-1)).toMatchObject({ step: n - 1, value: (n - 1) / 2 });
  });

  it('delete and restore are soft; deleted runs leave ACTIVE_ONLY searches and refuse writes', async () => {
    const exp = await newExperiment(alice);
    const runId = await newRun(alice, exp);
    await ml(alice, 'POST', '/runs/delete', { run_id: runId });
    expect((await getRun(alice, runId)).info.lifecycle_stage).toBe('deleted');
    expect((await ml(alice, 'POST', '/runs/search', { experiment_ids: [exp] })).json().runs ?? []).toEqual([]);
    const deletedOnly = (
      await ml(alice, 'POST', '/runs/search', { experiment_ids: [exp], run_view_type: 'DELETED_ONLY' })
    ).json();
    expect(deletedOnly.runs).toHaveLength(1);
    const write = await ml(alice, 'POST', '/runs/set-tag', { run_id: runId, key: 'a', value: 'b' });
    expect(mlError(write)).toBe('INVALID_PARAMETER_VALUE');
    await ml(alice, 'POST', '/runs/restore', { run_id: runId });
    expect((await ml(alice, 'POST', '/runs/search', { experiment_ids: [exp] })).json().runs).toHaveLength(1);

    await ml(alice, 'POST', '/experiments/delete', { experiment_id: exp });
    expect((await ml(alice, 'GET', '/experiments/get', { experiment_id: exp })).json().experiment.lifecycle_stage).toBe(
      'deleted',
    );
    await ml(alice, 'POST', '/experiments/restore', { experiment_id: exp });
    expect((await ml(alice, 'GET', '/experiments/get', { experiment_id: exp })).json().experiment.lifecycle_stage).toBe('active');
  });

  it('tags: set, the runName tag renames, delete-tag; experiment tags and rename; experiments/search', async () => {
    const exp = await newExperiment(alice, 'tagged');
    const runId = await newRun(alice, exp);
    await ml(alice, 'POST', '/runs/set-tag', { run_id: runId, key: 'mlflow.runName', value: 'renamed' });
    await ml(alice, 'POST', '/runs/set-tag', { run_id: runId, key: 'k', value: 'v' });
    expect((await call(server.app, alice, 'GET', `/api/experiments/${runId}`)).json().name).toBe('renamed');
    expect((await ml(alice, 'POST', '/runs/delete-tag', { run_id: runId, key: 'k' })).statusCode).toBe(200);
    expect(mlError(await ml(alice, 'POST', '/runs/delete-tag', { run_id: runId, key: 'k' }))).toBe('RESOURCE_DOES_NOT_EXIST');
    await ml(alice, 'POST', '/experiments/set-experiment-tag', { experiment_id: exp, key: 'owner', value: 'ada' });
    await ml(alice, 'POST', '/experiments/update', { experiment_id: exp, new_name: 'tagged-2' });
    const got = (await ml(alice, 'GET', '/experiments/get', { experiment_id: exp })).json().experiment;
    expect(got).toMatchObject({ name: 'tagged-2', tags: [{ key: 'owner', value: 'ada' }] });
    const search = await ml(alice, 'GET', '/experiments/search', { filter: "name LIKE 'tagged%'" });
    expect(search.json().experiments.map((e: { name: string }) => e.name)).toEqual(['tagged-2']);
    const byTag = await ml(alice, 'POST', '/experiments/search', { filter: "tags.owner = 'ada'" });
    expect(byTag.json().experiments.map((e: { experiment_id: string }) => e.experiment_id)).toEqual([exp]);
  });

  it("hostile input: odd ids, tokens, numbers and bodies are 4xx in MLflow's shape, never a 500", async () => {
    const runId = await newRun(alice, await newExperiment(alice));
    await ml(alice, 'POST', '/runs/log-metric', { run_id: runId, key: 'm', value: 1, timestamp: 1, step: 0 });
    const cases: [string, 'GET' | 'POST', string, Record<string, unknown>, number][] = [
      ['a run id that is not a UUID', 'GET', '/runs/get', { run_id: "x'; drop table experiments;--" }, 404],
      ['an experiment id that is not a UUID', 'GET', '/experiments/get', { experiment_id: '12345' }, 404],
      ['no run id', 'GET', '/runs/get', {}, 400],
      ['a forged page token', 'POST', '/runs/search', { experiment_ids: ['0'], page_token: 'bm9wZQ' }, 400],
      ['a forged history token', 'GET', '/metrics/get-history', { run_id: runId, metric_key: 'm', page_token: 'zz' }, 400],
      ['max_results 0', 'POST', '/runs/search', { experiment_ids: ['0'], max_results: 0 }, 400],
      ['max_results text', 'GET', '/metrics/get-history', { run_id: runId, metric_key: 'm', max_results: 'ten' }, 400],
      ['an unknown status', 'POST', '/runs/update', { run_id: runId, status: 'DONE' }, 400],
      ['an unknown view type', 'POST', '/runs/search', { experiment_ids: ['0'], run_view_type: 'SOME' }, 400],
      ['metrics that are not a list', 'POST', '/runs/log-batch', { run_id: runId, metrics: 'x' }, 400],
      ['a tag without a key', 'POST', '/runs/set-tag', { run_id: runId, value: 'v' }, 400],
      ['a NUL in a tag', 'POST', '/runs/set-tag', { run_id: runId, key: 'k', value: 'a\u0000b' }, 400],
      ['an empty experiment name', 'POST', '/experiments/create', { name: '  ' }, 400],
      ['an order_by that does not parse', 'POST', '/runs/search', { experiment_ids: ['0'], order_by: ['metrics.x upward'] }, 400],
    ];
    for (const [what, method, path, body, status] of cases) {
      const res = await ml(alice, method, path, body);
      expect(res.statusCode, `${what}: ${res.body}`).toBe(status);
      mlError(res);
    }
    const notJson = await server.app.inject({
      method: 'POST',
      url: `${BASE}/runs/log-batch`,
      headers: { authorization: `Bearer ${alice.key}`, 'content-type': 'application/json' },
      payload: '{"run_id": ',
    });
    expect(notJson.statusCode).toBe(400);
    expect(mlError(notJson)).toBe('INVALID_PARAMETER_VALUE');
  });

  it("multipart uploads and unknown endpoints answer in MLflow's shape, not retried statuses", async () => {
    // Multipart (mpu/*) is what stays unsupported of the artifact API: 501, which MLflow does not retry.
    const mpu = await server.app.inject({
      method: 'POST',
      url: '/api/2.0/mlflow-artifacts/mpu/create/x/y/artifacts/model.pt',
      headers: { authorization: `Bearer ${alice.key}`, 'content-type': 'application/json' },
      payload: { path: 'model.pt', num_parts: 2 },
    });
    expect(mpu.statusCode).toBe(501);
    expect(mlError(mpu)).toBe('NOT_IMPLEMENTED');
    expect(mpu.json().message).toMatch(/multipart/);
    const anonymous = await server.app.inject({ method: 'POST', url: `${BASE}/logged-models`, payload: {} });
    expect(anonymous.statusCode).toBe(401);
    expect(mlError(anonymous)).toBe('UNAUTHENTICATED');
    const unknown = await ml(alice, 'GET', '/gateway/routes');
    expect(unknown.statusCode).toBe(404);
    expect(mlError(unknown)).toBe('ENDPOINT_NOT_FOUND');
    // Under MLflow 3's prefix (traces, GenAI) and anywhere under /ajax-api too, in MLflow's shape.
    for (const [method, url] of [
      ['POST', '/api/3.0/mlflow/traces'],
      ['GET', '/api/3.0/mlflow/traces/tr-1/info'],
      ['GET', '/ajax-api/3.0/mlflow/traces/search'],
      ['GET', '/ajax-api/2.0/mlflow/nothing'],
    ] as const) {
      const res = await server.app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${alice.key}` },
        payload: method === 'POST' ? {} : undefined,
      });
      expect(res.statusCode, url).toBe(404);
      expect(mlError(res), url).toBe('ENDPOINT_NOT_FOUND');
    }
  });
});
