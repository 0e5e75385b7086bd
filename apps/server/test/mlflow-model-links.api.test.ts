import { describe, expect, it } from 'vitest';
import { DIALECTS, useTestServer, useUser } from './harness.js';
import { mlflowApi } from './mlflow-harness.js';

const T = 1_700_000_000_000;

interface ModelMetric {
  key: string;
  value: number | string;
  timestamp: number;
  step: number;
  run_id: string;
  model_id: string;
  dataset_name?: string;
  dataset_digest?: string;
}

describe.each(DIALECTS)("MLflow 3's model links on %s", (dialect) => {
  const server = useTestServer(dialect);
  const alice = useUser(server);
  const bob = useUser(server);
  const { ml, mlError, newExperiment, newRun } = mlflowApi(server);

  async function newModel(experimentId: string, extra: Record<string, unknown> = {}): Promise<string> {
    const res = await ml(alice, 'POST', '/logged-models', { experiment_id: experimentId, ...extra });
    expect(res.statusCode).toBe(200);
    return res.json<{ model: { info: { model_id: string } } }>().model.info.model_id;
  }

  const metricsOf = async (modelId: string): Promise<ModelMetric[]> =>
    (await ml(alice, 'GET', `/logged-models/${modelId}`)).json<{ model: { data: { metrics: ModelMetric[] } } }>().model.data
      .metrics;

  it('points logged with model_id (and a dataset) are the logged model’s metrics, and stay on the run', async () => {
    const exp = await newExperiment(alice);
    const runId = await newRun(alice, exp);
    const model = await newModel(exp, { source_run_id: runId });
    const res = await ml(alice, 'POST', '/runs/log-batch', {
      run_id: runId,
      metrics: [
        { key: 'acc', value: 0.9, timestamp: T, step: 1, model_id: model, dataset_name: 'iris', dataset_digest: 'abc' },
        { key: 'loss', value: 'NaN', timestamp: T, step: 1, model_id: model },
        { key: 'inf', value: '-Infinity', timestamp: T, step: 1, model_id: model },
        // The same point twice in one request is one metric of the model.
        { key: 'inf', value: '-Infinity', timestamp: T, step: 1, model_id: model },
        { key: 'plain', value: 1, timestamp: T, step: 1 },
      ],
    });
    expect(res.statusCode).toBe(200);
    // log_metric with model_id: the single-metric route links it too.
    await ml(alice, 'POST', '/runs/log-metric', {
      run_id: runId,
      key: 'acc',
      value: 0.95,
      timestamp: T + 1,
      step: 2,
      model_id: model,
    });
    // The same point again (a client retry) is one metric of the model.
    await ml(alice, 'POST', '/runs/log-metric', {
      run_id: runId,
      key: 'acc',
      value: 0.95,
      timestamp: T + 1,
      step: 2,
      model_id: model,
    });
    expect(await metricsOf(model)).toEqual([
      {
        key: 'acc',
        value: 0.9,
        timestamp: T,
        step: 1,
        run_id: runId,
        model_id: model,
        dataset_name: 'iris',
        dataset_digest: 'abc',
      },
      { key: 'inf', value: '-Infinity', timestamp: T, step: 1, run_id: runId, model_id: model },
      { key: 'loss', value: 'NaN', timestamp: T, step: 1, run_id: runId, model_id: model },
      { key: 'acc', value: 0.95, timestamp: T + 1, step: 2, run_id: runId, model_id: model },
    ]);
    const history = (await ml(alice, 'GET', '/metrics/get-history', { run_id: runId, metric_key: 'acc' })).json().metrics;
    expect(history.map((m: { value: number }) => m.value)).toEqual([0.9, 0.95]);
  });

  it("a point naming another experiment's model (or none that exists) is stored on the run and links nothing", async () => {
    const exp = await newExperiment(alice);
    const runId = await newRun(alice, exp);
    const bobsExp = await newExperiment(bob);
    const bobsModel = (await ml(bob, 'POST', '/logged-models', { experiment_id: bobsExp })).json().model.info.model_id;
    const res = await ml(alice, 'POST', '/runs/log-batch', {
      run_id: runId,
      metrics: [
        { key: 'x', value: 1, timestamp: T, step: 0, model_id: bobsModel },
        { key: 'y', value: 2, timestamp: T, step: 0, model_id: 'm-nope' },
      ],
    });
    expect(res.statusCode).toBe(200);
    const bobsMetrics = (await ml(bob, 'GET', `/logged-models/${bobsModel}`)).json().model.data.metrics;
    expect(bobsMetrics).toEqual([]);
    const run = (await ml(alice, 'GET', '/runs/get', { run_id: runId })).json().run;
    expect(run.data.metrics.map((m: { key: string }) => m.key).sort()).toEqual(['x', 'y']);
  });

  it('a dataset field that is no string is refused with the parameter named, and nothing is written', async () => {
    const exp = await newExperiment(alice);
    const runId = await newRun(alice, exp);
    const model = await newModel(exp);
    const res = await ml(alice, 'POST', '/runs/log-batch', {
      run_id: runId,
      metrics: [{ key: 'acc', value: 1, timestamp: T, step: 0, model_id: model, dataset_digest: 'x'.repeat(37) }],
    });
    expect(res.statusCode).toBe(400);
    expect(mlError(res)).toBe('INVALID_PARAMETER_VALUE');
    expect(res.json().message).toContain("'dataset_digest'");
    expect(await metricsOf(model)).toEqual([]);
    expect((await ml(alice, 'GET', '/runs/get', { run_id: runId })).json().run.data.metrics ?? []).toEqual([]);
  });

  it('logged-model search honours datasets (name, and digest when given) and takes IN and NOT IN', async () => {
    const exp = await newExperiment(alice);
    const runId = await newRun(alice, exp);
    const a = await newModel(exp, { name: 'a' });
    const b = await newModel(exp, { name: 'b' });
    await newModel(exp, { name: 'c' });
    await ml(alice, 'POST', '/runs/log-batch', {
      run_id: runId,
      metrics: [
        { key: 'acc', value: 1, timestamp: T, step: 0, model_id: a, dataset_name: 'train', dataset_digest: 'd1' },
        { key: 'acc', value: 1, timestamp: T, step: 0, model_id: b, dataset_name: 'eval', dataset_digest: 'd2' },
      ],
    });
    const names = async (body: object): Promise<string[]> => {
      const res = await ml(alice, 'POST', '/logged-models/search', { experiment_ids: [exp], ...body });
      expect(res.statusCode, JSON.stringify(body)).toBe(200);
      return res
        .json<{ models: { info: { name: string } }[] }>()
        .models.map((m) => m.info.name)
        .sort();
    };
    expect(await names({ datasets: [{ dataset_name: 'train' }] })).toEqual(['a']);
    expect(await names({ datasets: [{ dataset_name: 'train' }, { dataset_name: 'eval' }] })).toEqual(['a', 'b']);
    expect(await names({ datasets: [{ dataset_name: 'eval', dataset_digest: 'd1' }] })).toEqual([]);
    expect(await names({ datasets: [{ dataset_name: 'eval', dataset_digest: 'd2' }] })).toEqual(['b']);
    expect(await names({ filter: "name IN ('a', 'c')" })).toEqual(['a', 'c']);
    expect(await names({ filter: "name NOT IN ('a', 'c') AND model_type = ''" })).toEqual(['b']);
    expect(await names({ filter: "name in ('it''s', \"b\")" })).toEqual(['b']);
    // The models found carry their metrics.
    const found = (await ml(alice, 'POST', '/logged-models/search', { experiment_ids: [exp], filter: "name = 'a'" })).json();
    expect(found.models[0].data.metrics).toHaveLength(1);
    const noName = await ml(alice, 'POST', '/logged-models/search', {
      experiment_ids: [exp],
      datasets: [{ dataset_digest: 'd1' }],
    });
    expect(noName.statusCode).toBe(400);
    expect(mlError(noName)).toBe('INVALID_PARAMETER_VALUE');
    expect(noName.json().message).toContain('dataset_name');
    const badIn = await ml(alice, 'POST', '/logged-models/search', { experiment_ids: [exp], filter: 'name IN (a, b)' });
    expect(badIn.statusCode).toBe(400);
    expect(mlError(badIn)).toBe('INVALID_PARAMETER_VALUE');
  });

  it('logged-model search filters on metrics (on the datasets searched), params and tags, and pages them', async () => {
    const exp = await newExperiment(alice);
    const runId = await newRun(alice, exp);
    const a = await newModel(exp, { name: 'a', params: [{ key: 'lr', value: '0.1' }], tags: [{ key: 'team', value: 'vision' }] });
    const b = await newModel(exp, { name: 'b', params: [{ key: 'lr', value: '0.01' }], tags: [{ key: 'team', value: 'nlp' }] });
    await newModel(exp, { name: 'c' });
    await ml(alice, 'POST', '/runs/log-batch', {
      run_id: runId,
      metrics: [
        { key: 'acc', value: 0.9, timestamp: T, step: 0, model_id: a, dataset_name: 'train' },
        { key: 'acc', value: 0.5, timestamp: T, step: 0, model_id: a, dataset_name: 'test' },
        { key: 'acc', value: 0.7, timestamp: T, step: 0, model_id: b, dataset_name: 'test' },
      ],
    });
    const names = async (body: object): Promise<string[]> => {
      const res = await ml(alice, 'POST', '/logged-models/search', { experiment_ids: [exp], ...body });
      expect(res.statusCode, JSON.stringify(body)).toBe(200);
      return res
        .json<{ models: { info: { name: string } }[] }>()
        .models.map((m) => m.info.name)
        .sort();
    };
    expect(await names({ filter: 'metrics.acc > 0.6' })).toEqual(['a', 'b']);
    expect(await names({ filter: 'metrics.acc > 0.6', datasets: [{ dataset_name: 'test' }] })).toEqual(['b']);
    expect(await names({ filter: 'metrics.acc <= 0.5' })).toEqual(['a']);
    expect(await names({ filter: "params.lr = '0.1'" })).toEqual(['a']);
    expect(await names({ filter: "tags.team LIKE '%l%' AND name != 'x'" })).toEqual(['b']);
    expect(await names({ filter: "params.lr != '0.1' AND metrics.acc >= 0" })).toEqual(['b']);
    // Paged as any search: one model per page, then the next.
    const first = (
      await ml(alice, 'POST', '/logged-models/search', { experiment_ids: [exp], filter: 'metrics.acc > 0', max_results: 1 })
    ).json();
    expect(first.models).toHaveLength(1);
    const second = (
      await ml(alice, 'POST', '/logged-models/search', {
        experiment_ids: [exp],
        filter: 'metrics.acc > 0',
        max_results: 1,
        page_token: first.next_page_token,
      })
    ).json();
    expect([first.models[0].info.name, second.models[0].info.name].sort()).toEqual(['a', 'b']);
    expect(second.next_page_token).toBeUndefined();
    for (const bad of ["metrics.acc > '0.5'", 'params.lr > 1', "tags.team < 'x'"]) {
      const res = await ml(alice, 'POST', '/logged-models/search', { experiment_ids: [exp], filter: bad });
      expect(res.statusCode, bad).toBe(400);
      expect(mlError(res)).toBe('INVALID_PARAMETER_VALUE');
    }
  });

  it('logged-model search takes LIKE and ILIKE on attributes and orders by attributes and metrics, a missing value last', async () => {
    const exp = await newExperiment(alice);
    const runId = await newRun(alice, exp);
    const ids: Record<string, string> = {};
    for (const name of ['alpha', 'Beta', 'gamma']) ids[name] = await newModel(exp, { name });
    await ml(alice, 'POST', '/runs/log-batch', {
      run_id: runId,
      metrics: [
        { key: 'acc', value: 0.1, timestamp: T, step: 0, model_id: ids.alpha },
        // alpha's latest acc (by time) is 0.8; Beta's 0.5 on 'test' and 0.9 on 'train'; gamma has none.
        { key: 'acc', value: 0.8, timestamp: T + 5, step: 1, model_id: ids.alpha },
        { key: 'acc', value: 0.5, timestamp: T, step: 0, model_id: ids.Beta, dataset_name: 'test' },
        { key: 'acc', value: 0.9, timestamp: T + 1, step: 0, model_id: ids.Beta, dataset_name: 'train' },
      ],
    });
    const names = async (body: object): Promise<string[]> => {
      const res = await ml(alice, 'POST', '/logged-models/search', { experiment_ids: [exp], ...body });
      expect(res.statusCode, JSON.stringify(body)).toBe(200);
      return res.json<{ models: { info: { name: string } }[] }>().models.map((m) => m.info.name);
    };
    expect((await names({ filter: "name LIKE '%a'" })).sort()).toEqual(['Beta', 'alpha', 'gamma']);
    expect(await names({ filter: "name LIKE 'b%'" })).toEqual([]);
    expect(await names({ filter: "name ILIKE 'b%'" })).toEqual(['Beta']);
    expect(await names({ order_by: [{ field_name: 'name' }] })).toEqual(['Beta', 'alpha', 'gamma']);
    expect(await names({ order_by: [{ field_name: 'name', ascending: false }] })).toEqual(['gamma', 'alpha', 'Beta']);
    expect(await names({ order_by: [{ field_name: 'metrics.acc', ascending: false }] })).toEqual(['Beta', 'alpha', 'gamma']);
    expect(await names({ order_by: [{ field_name: 'metrics.acc' }] })).toEqual(['alpha', 'Beta', 'gamma']);
    // Only Beta has acc on 'test'; the others follow, newest first.
    expect(await names({ order_by: [{ field_name: 'metrics.acc', dataset_name: 'test', ascending: false }] })).toEqual([
      'Beta',
      'gamma',
      'alpha',
    ]);
    expect(await names({ order_by: [{ field_name: 'metrics.acc', dataset_name: 'test' }], filter: "name != 'gamma'" })).toEqual([
      'Beta',
      'alpha',
    ]);
    for (const order_by of [[{ field_name: 'colour' }], [{ field_name: 'name', ascending: 'yes' }], [{}], 'name']) {
      const res = await ml(alice, 'POST', '/logged-models/search', { experiment_ids: [exp], order_by });
      expect(res.statusCode, JSON.stringify(order_by)).toBe(400);
      expect(mlError(res)).toBe('INVALID_PARAMETER_VALUE');
    }
  });

  it('logged-model search orders by creation_timestamp and last_updated_timestamp, as MLflow names them', async () => {
    const exp = await newExperiment(alice);
    const first = await newModel(exp, { name: 'first' });
    await new Promise((r) => setTimeout(r, 5));
    await newModel(exp, { name: 'second' });
    const names = async (order_by: object[]): Promise<string[]> => {
      const res = await ml(alice, 'POST', '/logged-models/search', { experiment_ids: [exp], order_by });
      expect(res.statusCode, JSON.stringify(order_by)).toBe(200);
      return res.json<{ models: { info: { name: string } }[] }>().models.map((m) => m.info.name);
    };
    expect(await names([{ field_name: 'creation_timestamp', ascending: false }])).toEqual(['second', 'first']);
    expect(await names([{ field_name: 'creation_timestamp', ascending: true }])).toEqual(['first', 'second']);
    await new Promise((r) => setTimeout(r, 5));
    expect((await ml(alice, 'PATCH', `/logged-models/${first}/tags`, { tags: [{ key: 't', value: 'v' }] })).statusCode).toBe(200);
    expect(await names([{ field_name: 'last_updated_timestamp', ascending: false }])).toEqual(['first', 'second']);
  });

  it("a model version made from a logged model is listed in the model's mlflow.modelVersions tag, as MLflow writes it", async () => {
    const exp = await newExperiment(alice);
    const model = await newModel(exp);
    const name = `reg-${Math.random().toString(36).slice(2)}`;
    expect((await ml(alice, 'POST', '/registered-models/create', { name })).statusCode).toBe(200);
    const tagOf = async (): Promise<string | undefined> =>
      (await ml(alice, 'GET', `/logged-models/${model}`))
        .json<{ model: { info: { tags?: { key: string; value: string }[] } } }>()
        .model.info.tags?.find((t) => t.key === 'mlflow.modelVersions')?.value;
    for (const source of [`models:/${model}`, 's3://bucket/model']) {
      const res = await ml(alice, 'POST', '/model-versions/create', { name, source, model_id: model });
      expect(res.statusCode, source).toBe(200);
    }
    expect(await tagOf()).toBe(`[{"name": "${name}", "version": 1}, {"name": "${name}", "version": 2}]`);
    // A version without a model touches no model's tag.
    expect((await ml(alice, 'POST', '/model-versions/create', { name, source: 's3://bucket/other' })).statusCode).toBe(200);
    expect(await tagOf()).toBe(`[{"name": "${name}", "version": 1}, {"name": "${name}", "version": 2}]`);
    // Someone who cannot see the logged model can neither register it nor write its tag.
    const bobsName = `reg-${Math.random().toString(36).slice(2)}`;
    expect((await ml(bob, 'POST', '/registered-models/create', { name: bobsName })).statusCode).toBe(200);
    const bobs = await ml(bob, 'POST', '/model-versions/create', { name: bobsName, source: 's3://b/m', model_id: model });
    expect(bobs.statusCode).toBe(404);
    expect(mlError(bobs)).toBe('RESOURCE_DOES_NOT_EXIST');
    const versions = await ml(bob, 'GET', '/model-versions/search', { filter: `name = '${bobsName}'` });
    expect(versions.json<{ model_versions?: unknown[] }>().model_versions ?? []).toEqual([]);
    expect(await tagOf()).toBe(`[{"name": "${name}", "version": 1}, {"name": "${name}", "version": 2}]`);
  });

  it('create_logged_model keeps any source_run_id, as MLflow does; only a run of the experiment holds the files', async () => {
    const exp = await newExperiment(alice);
    const runId = await newRun(alice, exp);
    const elsewhere = await newRun(alice, await newExperiment(alice));
    const bobsRun = await newRun(bob, await newExperiment(bob));
    for (const source of ['no-such-run', elsewhere, bobsRun]) {
      const res = await ml(alice, 'POST', '/logged-models', { experiment_id: exp, source_run_id: source });
      expect(res.statusCode, source).toBe(200);
      const info = res.json().model.info;
      expect(info.source_run_id).toBe(source);
      // Not beside that run's files: under the experiment's own models.
      expect(info.artifact_uri).toBe(`mlflow-artifacts:/${exp}/models/${info.model_id}/artifacts`);
      const read = (await ml(alice, 'GET', `/logged-models/${info.model_id}`)).json().model.info;
      expect(read.source_run_id).toBe(source);
      const searched = await ml(alice, 'POST', '/logged-models/search', {
        experiment_ids: [exp],
        filter: `source_run_id = '${source}'`,
      });
      expect(searched.json().models.map((m: { info: { model_id: string } }) => m.info.model_id)).toEqual([info.model_id]);
    }
    const own = (await ml(alice, 'POST', '/logged-models', { experiment_id: exp, source_run_id: runId })).json().model.info;
    expect(own.artifact_uri).toBe(`mlflow-artifacts:/${exp}/${runId}/models/${own.model_id}/artifacts`);
  });

  it("logged-models/{id}/artifacts/directories lists a model's files, with MLflow's path check", async () => {
    const exp = await newExperiment(alice);
    const runId = await newRun(alice, exp);
    for (const [model, root] of [
      [await newModel(exp), (id: string) => `${exp}/models/${id}/artifacts`],
      [await newModel(exp, { source_run_id: runId }), (id: string) => `${exp}/${runId}/models/${id}/artifacts`],
    ] as const) {
      const put = await server.app.inject({
        method: 'PUT',
        url: `/api/2.0/mlflow-artifacts/artifacts/${root(model)}/data/w.bin`,
        headers: { authorization: `Bearer ${alice.key}`, 'content-type': 'application/octet-stream' },
        payload: 'abc',
      });
      expect(put.statusCode).toBe(200);
      const list = (path?: string, user = alice) =>
        ml(
          user,
          'GET',
          `/logged-models/${model}/artifacts/directories`,
          path === undefined ? {} : { artifact_directory_path: path },
        );
      expect((await list()).json()).toEqual({
        root_uri: `mlflow-artifacts:/${root(model)}`,
        files: [{ path: 'data', is_dir: true }],
      });
      expect((await list('data')).json().files).toEqual([{ path: 'data/w.bin', is_dir: false, file_size: 3 }]);
      const bad = await list('../x');
      expect(bad.statusCode).toBe(400);
      expect(bad.json().message).toBe('Invalid path');
      const stranger = await list(undefined, bob);
      expect(stranger.statusCode).toBe(404);
      expect(mlError(stranger)).toBe('RESOURCE_DOES_NOT_EXIST');
    }
  });

  it('runs/outputs reads back in runs/get and runs/search; a non-member cannot link a model to the run', async () => {
    const exp = await newExperiment(alice);
    const runId = await newRun(alice, exp);
    const model = await newModel(exp, { source_run_id: runId });
    expect((await ml(alice, 'POST', '/runs/outputs', { run_id: runId, models: [{ model_id: model, step: 7 }] })).statusCode).toBe(
      200,
    );
    expect((await ml(alice, 'GET', '/runs/get', { run_id: runId })).json().run.outputs).toEqual({
      model_outputs: [{ model_id: model, step: 7 }],
    });
    const searched = (await ml(alice, 'POST', '/runs/search', { experiment_ids: [exp] })).json().runs;
    expect(searched[0].outputs).toEqual({ model_outputs: [{ model_id: model, step: 7 }] });
    const bobs = await ml(bob, 'POST', '/runs/outputs', { run_id: runId, models: [{ model_id: model, step: 1 }] });
    expect(bobs.statusCode).toBe(404);
    expect(mlError(bobs)).toBe('RESOURCE_DOES_NOT_EXIST');
  });
});
