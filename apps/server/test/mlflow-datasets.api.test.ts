import { describe, expect, it } from 'vitest';
import { DIALECTS, addMember, call, errorCode, useTestServer, useUser } from './harness.js';
import { mlflowApi } from './mlflow-harness.js';

const dataset = (name: string, digest: string, extra: Record<string, string> = {}) => ({
  name,
  digest,
  source_type: 'local',
  source: JSON.stringify({ uri: `/data/${name}.csv` }),
  ...extra,
});
const input = (d: object, context?: string) => ({
  dataset: d,
  tags: context === undefined ? [] : [{ key: 'mlflow.data.context', value: context }],
});

describe.each(DIALECTS)('MLflow dataset inputs on %s', (dialect) => {
  const server = useTestServer(dialect);
  const alice = useUser(server);
  const bob = useUser(server);
  const { ml, mlError, newExperiment, newRun } = mlflowApi(server);

  it('log-inputs stores datasets with their input tags and models; runs/get and runs/search return them', async () => {
    const exp = await newExperiment(alice);
    const runId = await newRun(alice, exp);
    const train = dataset('iris', 'abc123', { schema: '{"mlflow_colspec": []}', profile: '{"num_rows": 150}' });
    const res = await ml(alice, 'POST', '/runs/log-inputs', {
      run_id: runId,
      datasets: [input(train, 'training'), input(dataset('iris-eval', 'def456'))],
      models: [{ model_id: 'm-1' }],
    });
    expect(res.statusCode).toBe(200);
    // The same dataset again (even with another context) is kept once, as it was: MLflow's rule.
    await ml(alice, 'POST', '/runs/log-inputs', { run_id: runId, datasets: [input(train, 'eval')] });
    const run = (await ml(alice, 'GET', '/runs/get', { run_id: runId })).json().run;
    expect(run.inputs).toEqual({
      dataset_inputs: [
        { tags: [{ key: 'mlflow.data.context', value: 'training' }], dataset: train },
        { tags: [], dataset: dataset('iris-eval', 'def456') },
      ],
      model_inputs: [{ model_id: 'm-1' }],
    });
    const searched = (await ml(alice, 'POST', '/runs/search', { experiment_ids: [exp] })).json().runs;
    expect(searched[0].inputs.dataset_inputs).toHaveLength(2);
  });

  it('datasets logged in one request read back in the order logged, as MLflow answers them', async () => {
    const runId = await newRun(alice, await newExperiment(alice));
    // Same name, digests against their sort order: the order is the request's, not the key's.
    const logged = [dataset('d', 'c3'), dataset('d', 'a1'), dataset('d', 'b2')];
    const res = await ml(alice, 'POST', '/runs/log-inputs', {
      run_id: runId,
      datasets: logged.map((d, i) => input(d, `train${i + 1}`)),
    });
    expect(res.statusCode).toBe(200);
    // A later request's dataset comes after them.
    await new Promise((r) => setTimeout(r, 5));
    await ml(alice, 'POST', '/runs/log-inputs', { run_id: runId, datasets: [input(dataset('a', '00'))] });
    const run = (await ml(alice, 'GET', '/runs/get', { run_id: runId })).json<{
      run: { inputs: { dataset_inputs: { dataset: { digest: string } }[] } };
    }>().run;
    expect(run.inputs.dataset_inputs.map((d) => d.dataset.digest)).toEqual(['c3', 'a1', 'b2', '00']);
  });

  it('runs/search filters on datasets.name, datasets.digest and datasets.context', async () => {
    const exp = await newExperiment(alice);
    const a = await newRun(alice, exp, { run_name: 'a' });
    const b = await newRun(alice, exp, { run_name: 'b' });
    await newRun(alice, exp, { run_name: 'none' });
    await ml(alice, 'POST', '/runs/log-inputs', { run_id: a, datasets: [input(dataset('mnist', 'd1'), 'training')] });
    await ml(alice, 'POST', '/runs/log-inputs', { run_id: b, datasets: [input(dataset('cifar', 'd2'), 'eval')] });
    const names = async (filter: string) => {
      const res = await ml(alice, 'POST', '/runs/search', { experiment_ids: [exp], filter });
      expect(res.statusCode, filter).toBe(200);
      return (
        res
          .json<{ runs?: { info: { run_name: string } }[] }>()
          .runs?.map((r) => r.info.run_name)
          .sort() ?? []
      );
    };
    expect(await names("datasets.name = 'mnist'")).toEqual(['a']);
    expect(await names("datasets.name IN ('mnist', 'cifar')")).toEqual(['a', 'b']);
    expect(await names("datasets.digest = 'd2'")).toEqual(['b']);
    expect(await names("datasets.context = 'training'")).toEqual(['a']);
    expect(await names("datasets.name LIKE 'm%' and datasets.context = 'eval'")).toEqual([]);
    const bad = await ml(alice, 'POST', '/runs/search', { experiment_ids: [exp], filter: "datasets.size = '1'" });
    expect(bad.statusCode).toBe(400);
    expect(mlError(bad)).toBe('INVALID_PARAMETER_VALUE');
  });

  it('refuses bad datasets with MLflow errors naming the field, writes nothing, and follows the workspace roles', async () => {
    const exp = await newExperiment(alice);
    const runId = await newRun(alice, exp);
    const cases: [string, object, string][] = [
      ['no name', { datasets: [input({ digest: 'x', source_type: 'local', source: 's' })] }, 'datasets[0].dataset.name'],
      ['no dataset', { datasets: [{ tags: [] }] }, 'datasets[0].dataset'],
      ['a long digest', { datasets: [input(dataset('n', 'x'.repeat(37)))] }, 'datasets[0].dataset.digest'],
      [
        'a long tag',
        { datasets: [{ dataset: dataset('n', 'd'), tags: [{ key: 'k', value: 'v'.repeat(501) }] }] },
        'tags[0].value',
      ],
      ['not a list', { datasets: 'iris' }, 'datasets'],
    ];
    for (const [what, body, field] of cases) {
      const res = await ml(alice, 'POST', '/runs/log-inputs', { run_id: runId, ...body });
      expect(res.statusCode, what).toBe(400);
      expect(mlError(res), what).toBe('INVALID_PARAMETER_VALUE');
      expect(res.json().message, what).toContain(field);
      expect(res.json().message, what).not.toMatch(/undefined|null/);
    }
    // A batch with one bad dataset stores none of it.
    await ml(alice, 'POST', '/runs/log-inputs', {
      run_id: runId,
      datasets: [input(dataset('good', 'g')), input(dataset('bad', 'x'.repeat(40)))],
    });
    expect((await ml(alice, 'GET', '/runs/get', { run_id: runId })).json().run.inputs.dataset_inputs).toEqual([]);
    const stranger = await ml(bob, 'POST', '/runs/log-inputs', { run_id: runId, datasets: [input(dataset('n', 'd'))] });
    expect(stranger.statusCode).toBe(404);
    await addMember(server.app, alice, exp, bob, 'viewer');
    const viewer = await ml(bob, 'POST', '/runs/log-inputs', { run_id: runId, datasets: [input(dataset('n', 'd'))] });
    expect(viewer.statusCode).toBe(403);
    expect((await ml(bob, 'GET', '/runs/get', { run_id: runId })).statusCode).toBe(200);
  });

  it('runs/outputs links a logged model to the run at a step, read back in runs/get', async () => {
    const runId = await newRun(alice, await newExperiment(alice));
    const res = await ml(alice, 'POST', '/runs/outputs', { run_id: runId, models: [{ model_id: 'm-9', step: 3 }] });
    expect(res.statusCode).toBe(200);
    const run = (await ml(alice, 'GET', '/runs/get', { run_id: runId })).json().run;
    expect(run.outputs).toEqual({ model_outputs: [{ model_id: 'm-9', step: 3 }] });
  });

  it("Tora's GET /api/experiments/{id}/datasets lists a run's datasets for viewers; non-members get 404", async () => {
    const exp = await newExperiment(alice);
    const runId = await newRun(alice, exp);
    await ml(alice, 'POST', '/runs/log-inputs', {
      run_id: runId,
      datasets: [input(dataset('wiki', 'w1', { profile: '{"num_rows": 9}' }), 'training')],
    });
    const res = await call(server.app, alice, 'GET', `/api/experiments/${runId}/datasets`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      datasets: [
        {
          name: 'wiki',
          digest: 'w1',
          sourceType: 'local',
          source: JSON.stringify({ uri: '/data/wiki.csv' }),
          context: 'training',
          tags: [{ key: 'mlflow.data.context', value: 'training' }],
          schema: null,
          profile: '{"num_rows": 9}',
          loggedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        },
      ],
    });
    const stranger = await call(server.app, bob, 'GET', `/api/experiments/${runId}/datasets`);
    expect(stranger.statusCode).toBe(404);
    expect(errorCode(stranger)).toBe('EXPERIMENT_NOT_FOUND');
  });
});
