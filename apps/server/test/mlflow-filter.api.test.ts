import { beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, call, createExperiment, errorCode, useTestServer, useUser } from './harness.js';

/** The dashboard's experiment list takes MLflow's filter grammar, parsed by the MLflow module's one parser. */
describe.each(DIALECTS)('experiment list filter (MLflow grammar) on %s', (dialect) => {
  const server = useTestServer(dialect);
  const alice = useUser(server);
  let ws: string;

  beforeAll(async () => {
    ws = alice.defaultWorkspaceId;
    // Tora-native experiments: numeric hyperparameters from Tora's own client, metrics through the batch API.
    const specs = [
      { name: 'fast', lr: 0.1, loss: 0.5, status: 'finished' },
      { name: 'slow', lr: 0.001, loss: 0.2, status: 'finished' },
      { name: 'mid', lr: 0.005, loss: 0.4, status: 'failed' },
      { name: 'nan', lr: 0.0001, loss: NaN, status: 'running' },
    ];
    for (const s of specs) {
      const id = await createExperiment(server.app, alice, {
        name: s.name,
        hyperparams: { lr: s.lr, opt: 'adam' },
        status: s.status,
      });
      const res = await call(server.app, alice, 'POST', `/api/experiments/${id}/metrics/batch`, [
        { name: 'val/loss', value: 1, step: 0 },
        { name: 'val/loss', value: Number.isNaN(s.loss) ? 'NaN' : s.loss, step: 1 },
      ]);
      expect(res.statusCode).toBe(201);
    }
    // One MLflow run with a string param and an MLflow tag.
    const run = await server.app.inject({
      method: 'POST',
      url: '/api/2.0/mlflow/runs/create',
      headers: { authorization: `Bearer ${alice.key}` },
      payload: { experiment_id: ws, run_name: 'mlflow-run', tags: [{ key: 'team', value: 'vision' }] },
    });
    const runId = run.json().run.info.run_id;
    await server.app.inject({
      method: 'POST',
      url: '/api/2.0/mlflow/runs/log-batch',
      headers: { authorization: `Bearer ${alice.key}` },
      payload: {
        run_id: runId,
        params: [{ key: 'lr', value: '0.002' }],
        metrics: [{ key: 'val/loss', value: 0.1, timestamp: 1, step: 0 }],
      },
    });
  });

  const names = async (filter: string) => {
    const res = await call(
      server.app,
      alice,
      'GET',
      `/api/experiments?workspace=${ws}&sort=name&filter=${encodeURIComponent(filter)}`,
    );
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.total).toBe(body.experiments.length);
    return body.experiments.map((e: { name: string }) => e.name);
  };

  it('filters by params, metrics (last value), tags and status, joined by AND', async () => {
    expect(await names('params.lr < 0.01 and metrics.val/loss < 0.3')).toEqual(['mlflow-run', 'slow']);
    expect(await names('params.lr < 0.01')).toEqual(['mid', 'mlflow-run', 'nan', 'slow']);
    expect(await names("params.lr = '0.001'")).toEqual(['slow']); // a numeric string finds a number
    expect(await names("params.opt = 'adam' and metrics.`val/loss` >= 0.4")).toEqual(['fast', 'mid']);
    expect(await names("tags.team = 'vision'")).toEqual(['mlflow-run']);
    expect(await names("attributes.status = 'FAILED'")).toEqual(['mid']);
    expect(await names("attributes.status IN ('FINISHED', 'FAILED') and attributes.run_name LIKE '%s%'")).toEqual([
      'fast',
      'slow',
    ]);
    expect(await names('metrics.val/loss > -1')).not.toContain('nan'); // a NaN last value matches no comparison
  });

  it('several clauses on one key all hold; a run without the key matches no comparison, != included', async () => {
    expect(await names('metrics.val/loss > 0.15 and metrics.val/loss < 0.45')).toEqual(['mid', 'slow']);
    expect(await names('params.lr < 0.01 and params.lr > 0.001 and params.lr != 0.002')).toEqual(['mid']);
    expect(await names("tags.team != 'nlp'")).toEqual(['mlflow-run']);
    expect(await names("tags.team != 'vision'")).toEqual([]);
    expect(await names("params.opt NOT IN ('sgd') and tags.team LIKE 'vis%'")).toEqual([]);
    expect(await names("params.opt != 'sgd' and params.lr >= 0.005 and tags.mlflow.runName != 'fast'")).toEqual(['mid']);
    expect(await names('metrics.absent < 1 and metrics.val/loss < 1')).toEqual([]);
  });

  it("a filter that does not parse is a 400 in Tora's error shape, naming the problem", async () => {
    const res = await call(server.app, alice, 'GET', `/api/experiments?filter=${encodeURIComponent('metrics.loss >')}`);
    expect(res.statusCode).toBe(400);
    expect(errorCode(res)).toBe('VALIDATION_ERROR');
    expect(res.json().error.message).toMatch(/^Filter /);
    expect(res.json().error.details[0].path).toBe('query.filter');
  });
});
