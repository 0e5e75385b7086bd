import { describe, expect, it } from 'vitest';
import { DIALECTS, addMember, call, errorCode, useTestServer, useUser } from './harness.js';
import { mlflowApi } from './mlflow-harness.js';

describe.each(DIALECTS)('MLflow model registry on %s', (dialect) => {
  const server = useTestServer(dialect);
  const alice = useUser(server);
  const bob = useUser(server);
  const { ml, mlError, newExperiment, newRun } = mlflowApi(server);

  const uniq = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 8)}`;

  async function modelWithVersions(runId: string, n: number, name = uniq('model')): Promise<string> {
    expect(
      (await ml(alice, 'POST', '/registered-models/create', { name, tags: [{ key: 'team', value: 'risk' }] })).statusCode,
    ).toBe(200);
    for (let i = 0; i < n; i++) {
      const res = await ml(alice, 'POST', '/model-versions/create', { name, source: `runs:/${runId}/model`, run_id: runId });
      expect(res.statusCode).toBe(200);
      expect(res.json().model_version).toMatchObject({
        name,
        version: String(i + 1),
        current_stage: 'None',
        status: 'READY',
        run_id: runId,
      });
    }
    return name;
  }

  it('creates a model in the workspace of its first run, numbers versions, and resolves a download URI', async () => {
    const exp = await newExperiment(alice);
    const runId = await newRun(alice, exp);
    const name = await modelWithVersions(runId, 2);
    const again = await ml(alice, 'POST', '/registered-models/create', { name });
    expect(again.statusCode).toBe(400);
    expect(mlError(again)).toBe('RESOURCE_ALREADY_EXISTS');
    const got = (await ml(alice, 'GET', '/registered-models/get', { name })).json().registered_model;
    expect(got).toMatchObject({ name, tags: [{ key: 'team', value: 'risk' }], aliases: [] });
    expect(got.latest_versions.map((v: { version: string }) => v.version)).toEqual(['2']);
    const uri = await ml(alice, 'GET', '/model-versions/get-download-uri', { name, version: '1' });
    expect(uri.json()).toEqual({ artifact_uri: `mlflow-artifacts:/${exp}/${runId}/artifacts/model` });
    // A deleted version's number is not given again.
    expect((await ml(alice, 'DELETE', '/model-versions/delete', { name, version: '2' })).statusCode).toBe(200);
    const v3 = await ml(alice, 'POST', '/model-versions/create', { name, source: 's3://bucket/model' });
    expect(v3.json().model_version.version).toBe('3');
    expect((await ml(alice, 'GET', '/model-versions/get-download-uri', { name, version: '3' })).json().artifact_uri).toBe(
      's3://bucket/model',
    );
    const missing = await ml(alice, 'GET', '/model-versions/get', { name, version: '2' });
    expect(missing.statusCode).toBe(404);
    expect(mlError(missing)).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  it('aliases: set, read, move, reserved names refused, removed with their version', async () => {
    const runId = await newRun(alice, await newExperiment(alice));
    const name = await modelWithVersions(runId, 2);
    expect((await ml(alice, 'POST', '/registered-models/alias', { name, alias: 'champion', version: '1' })).statusCode).toBe(200);
    expect((await ml(alice, 'GET', '/registered-models/alias', { name, alias: 'champion' })).json().model_version).toMatchObject({
      version: '1',
      aliases: ['champion'],
    });
    await ml(alice, 'POST', '/registered-models/alias', { name, alias: 'champion', version: '2' });
    expect((await ml(alice, 'GET', '/registered-models/get', { name })).json().registered_model.aliases).toEqual([
      { alias: 'champion', version: '2' },
    ]);
    for (const alias of ['latest', 'v3', 'bad alias']) {
      const res = await ml(alice, 'POST', '/registered-models/alias', { name, alias, version: '1' });
      expect(res.statusCode, alias).toBe(400);
      expect(mlError(res), alias).toBe('INVALID_PARAMETER_VALUE');
    }
    const noVersion = await ml(alice, 'POST', '/registered-models/alias', { name, alias: 'x', version: '9' });
    expect(noVersion.statusCode).toBe(404);
    await ml(alice, 'DELETE', '/model-versions/delete', { name, version: '2' });
    const gone = await ml(alice, 'GET', '/registered-models/alias', { name, alias: 'champion' });
    expect(gone.statusCode).toBe(404);
    await ml(alice, 'POST', '/registered-models/alias', { name, alias: 'old', version: '1' });
    expect((await ml(alice, 'DELETE', '/registered-models/alias', { name, alias: 'old' })).statusCode).toBe(200);
    expect((await ml(alice, 'GET', '/registered-models/get', { name })).json().registered_model.aliases).toEqual([]);
  });

  it('stages: transition (case-insensitive), archive_existing_versions, get-latest-versions per stage', async () => {
    const runId = await newRun(alice, await newExperiment(alice));
    const name = await modelWithVersions(runId, 3);
    const move = (version: string, stage: string, archive = false) =>
      ml(alice, 'POST', '/model-versions/transition-stage', { name, version, stage, archive_existing_versions: archive });
    expect((await move('1', 'production')).json().model_version.current_stage).toBe('Production');
    await move('2', 'Staging');
    await move('3', 'Production', true);
    const latest = (stages: string[]) =>
      ml(alice, 'POST', '/registered-models/get-latest-versions', { name, stages }).then((r) =>
        r.json().model_versions.map((v: { version: string; current_stage: string }) => [v.version, v.current_stage]),
      );
    expect(await latest(['Production'])).toEqual([['3', 'Production']]);
    expect(await latest([])).toEqual([
      ['2', 'Staging'],
      ['3', 'Production'],
      ['1', 'Archived'],
    ]);
    const bad = await move('1', 'Deployed');
    expect(bad.statusCode).toBe(400);
    expect(mlError(bad)).toBe('INVALID_PARAMETER_VALUE');
  });

  it("search, rename, update, tags and delete, with MLflow's filter grammar", async () => {
    const runId = await newRun(alice, await newExperiment(alice));
    const prefix = uniq('fraud');
    const a = await modelWithVersions(runId, 1, `${prefix}-a`);
    const b = await modelWithVersions(runId, 2, `${prefix}-b`);
    await ml(alice, 'POST', '/registered-models/set-tag', { name: b, key: 'stage', value: 'beta' });
    const search = async (filter: string) => {
      const res = await ml(alice, 'GET', '/registered-models/search', { filter });
      expect(res.statusCode, filter).toBe(200);
      return (res.json().registered_models ?? []).map((m: { name: string }) => m.name);
    };
    expect(await search(`name LIKE '${prefix}%'`)).toEqual([a, b]);
    expect(await search(`name = '${a}'`)).toEqual([a]);
    // What MLflow 3's client adds to every search to leave prompts out: models without the tag pass.
    expect(await search(`name LIKE '${prefix}%' AND tags.\`mlflow.prompt.is_prompt\` != 'true'`)).toEqual([a, b]);
    expect(await search(`name ILIKE '${prefix.toUpperCase()}%' and tags.stage = 'beta'`)).toEqual([b]);
    const versions = await ml(alice, 'GET', '/model-versions/search', { filter: `name = '${b}' and version_number > 1` });
    expect(versions.json().model_versions.map((v: { version: string }) => v.version)).toEqual(['2']);
    const byRun = await ml(alice, 'GET', '/model-versions/search', { filter: `run_id IN ('${runId}')` });
    expect(byRun.json().model_versions).toHaveLength(3);
    const badFilter = await ml(alice, 'GET', '/registered-models/search', { filter: 'owner = 1' });
    expect(badFilter.statusCode).toBe(400);
    expect(mlError(badFilter)).toBe('INVALID_PARAMETER_VALUE');
    const renamed = await ml(alice, 'POST', '/registered-models/rename', { name: a, new_name: `${a}-v2` });
    expect(renamed.json().registered_model.name).toBe(`${a}-v2`);
    const clash = await ml(alice, 'POST', '/registered-models/rename', { name: `${a}-v2`, new_name: b });
    expect(mlError(clash)).toBe('RESOURCE_ALREADY_EXISTS');
    const updated = await ml(alice, 'PATCH', '/registered-models/update', { name: b, description: 'scores payments' });
    expect(updated.json().registered_model.description).toBe('scores payments');
    await ml(alice, 'POST', '/model-versions/set-tag', { name: b, version: '1', key: 'validated', value: 'yes' });
    await ml(alice, 'PATCH', '/model-versions/update', { name: b, version: '1', description: 'first' });
    expect((await ml(alice, 'GET', '/model-versions/get', { name: b, version: '1' })).json().model_version).toMatchObject({
      description: 'first',
      tags: [{ key: 'validated', value: 'yes' }],
    });
    expect(
      (await ml(alice, 'DELETE', '/model-versions/delete-tag', { name: b, version: '1', key: 'validated' })).statusCode,
    ).toBe(200);
    expect((await ml(alice, 'DELETE', '/registered-models/delete-tag', { name: b, key: 'stage' })).statusCode).toBe(200);
    expect((await ml(alice, 'DELETE', '/registered-models/delete', { name: b })).statusCode).toBe(200);
    expect((await ml(alice, 'GET', '/registered-models/get', { name: b })).statusCode).toBe(404);
  });

  it('access follows the workspace: strangers get 404, viewers read but cannot write', async () => {
    const exp = await newExperiment(alice);
    const runId = await newRun(alice, exp);
    const name = await modelWithVersions(runId, 1);
    const stranger = await ml(bob, 'GET', '/registered-models/get', { name });
    expect(stranger.statusCode).toBe(404);
    expect(mlError(stranger)).toBe('RESOURCE_DOES_NOT_EXIST');
    expect((await ml(bob, 'GET', '/registered-models/search', {})).json().registered_models ?? []).toEqual([]);
    expect((await ml(bob, 'POST', '/registered-models/alias', { name, alias: 'x', version: '1' })).statusCode).toBe(404);
    await addMember(server.app, alice, exp, bob, 'viewer');
    expect((await ml(bob, 'GET', '/model-versions/get', { name, version: '1' })).statusCode).toBe(200);
    const write = await ml(bob, 'POST', '/registered-models/alias', { name, alias: 'x', version: '1' });
    expect(write.statusCode).toBe(403);
    expect(mlError(write)).toBe('PERMISSION_DENIED');
    expect((await ml(bob, 'DELETE', '/registered-models/delete', { name })).statusCode).toBe(403);
  });

  it("Tora's /api/workspaces/{id}/models lists a workspace's models with their runs; editors set aliases, viewers read", async () => {
    const exp = await newExperiment(alice);
    const runId = await newRun(alice, exp, { run_name: 'trainer' });
    const name = await modelWithVersions(runId, 2);
    await ml(alice, 'POST', '/registered-models/alias', { name, alias: 'champion', version: '1' });
    const list = await call(server.app, alice, 'GET', `/api/workspaces/${exp}/models`);
    expect(list.statusCode).toBe(200);
    const [model] = list.json().models;
    expect(model).toMatchObject({ name, aliases: [{ alias: 'champion', version: 1 }], tags: [{ key: 'team', value: 'risk' }] });
    expect(
      model.versions.map((v: { version: number; runName: string; aliases: string[] }) => [v.version, v.runName, v.aliases]),
    ).toEqual([
      [2, 'trainer', []],
      [1, 'trainer', ['champion']],
    ]);
    const path = `/api/workspaces/${exp}/models/${encodeURIComponent(name)}/aliases`;
    const moved = await call(server.app, alice, 'PUT', `${path}/champion`, { version: 2 });
    expect(moved.statusCode).toBe(200);
    expect(moved.json().aliases).toEqual([{ alias: 'champion', version: 2 }]);
    // The MLflow client sees what the page set.
    expect((await ml(alice, 'GET', '/registered-models/alias', { name, alias: 'champion' })).json().model_version.version).toBe(
      '2',
    );
    const reserved = await call(server.app, alice, 'PUT', `${path}/latest`, { version: 1 });
    expect(reserved.statusCode).toBe(400);
    expect(errorCode(reserved)).toBe('VALIDATION_ERROR');
    const noVersion = await call(server.app, alice, 'PUT', `${path}/beta`, { version: 7 });
    expect(noVersion.statusCode).toBe(400);
    expect((await call(server.app, bob, 'GET', `/api/workspaces/${exp}/models`)).statusCode).toBe(404);
    await addMember(server.app, alice, exp, bob, 'viewer');
    expect((await call(server.app, bob, 'GET', `/api/workspaces/${exp}/models`)).json().models).toHaveLength(1);
    const viewer = await call(server.app, bob, 'PUT', `${path}/beta`, { version: 1 });
    expect(viewer.statusCode).toBe(403);
    expect(errorCode(viewer)).toBe('FORBIDDEN');
    const removed = await call(server.app, alice, 'DELETE', `${path}/champion`);
    expect(removed.json().aliases).toEqual([]);
  });

  it("deleting a workspace deletes its registered models, versions and the runs' dataset inputs with it", async () => {
    const exp = await newExperiment(alice);
    const runId = await newRun(alice, exp);
    const name = await modelWithVersions(runId, 1);
    await ml(alice, 'POST', '/runs/log-inputs', {
      run_id: runId,
      datasets: [{ dataset: { name: 'd', digest: 'x', source_type: 'local', source: 's' }, tags: [] }],
    });
    const res = await call(server.app, alice, 'DELETE', `/api/workspaces/${exp}`);
    expect(res.statusCode).toBe(200);
    expect((await ml(alice, 'GET', '/registered-models/get', { name })).statusCode).toBe(404);
    // The name is free again.
    expect((await ml(alice, 'POST', '/registered-models/create', { name })).statusCode).toBe(200);
  });

  it("checks a version's source as MLflow's server does: no relative path however encoded, no local path", async () => {
    const runId = await newRun(alice, await newExperiment(alice));
    const name = uniq('sources');
    expect((await ml(alice, 'POST', '/registered-models/create', { name })).statusCode).toBe(200);
    const create = (source: string, extra: object = { run_id: runId }) =>
      ml(alice, 'POST', '/model-versions/create', { name, source, ...extra });
    for (const source of [
      'mlflow-artifacts:/models',
      'mlflow-artifacts:/models/',
      'mlflow-artifacts:/models///',
      'mlflow-artifacts:/models/foo///bar',
      'mlflow-artifacts://host:9000/models',
      'mlflow-artifacts://host:9000/models/artifact/..../',
      `runs:/${runId}/model`,
      's3://bucket/path/model',
    ]) {
      expect((await create(source)).statusCode, source).toBe(200);
    }
    const relative = 'If supplying a source as an http, https,';
    const local = 'To use a local path as a model version source, the run_id request parameter';
    const refused: [string, string][] = [
      ['mlflow-artifacts://host:9000/models/../../../', relative],
      ['http://host:9000/models/../../../', relative],
      ['https://host/api/2.0/mlflow-artifacts/artifacts/../../../', relative],
      ['s3a://my_bucket/api/2.0/mlflow-artifacts/artifacts/../../../', relative],
      ['ftp://host:8888/api/2.0/mlflow-artifacts/artifacts/../../../', relative],
      ['mlflow-artifacts://host:9000/models/..%2f..%2fartifacts', relative],
      ['mlflow-artifacts://host:9000/models/%252e%252e%252fetc', relative],
      ['mlflow-artifacts://host:9000/models/artifact%00', relative],
      ['s3://bucket/a/./b', relative],
      [`dbfs:/${runId}/artifacts/a%3f/../../../../../../../../../../`, 'Invalid model version source'],
      ['/tmp', local],
      ['relative/path', local],
      ['file:///tmp/model', local],
    ];
    for (const [source, message] of refused) {
      const res = await create(source);
      expect(res.statusCode, source).toBe(400);
      expect(mlError(res)).toBe('INVALID_PARAMETER_VALUE');
      expect(res.json<{ message: string }>().message).toContain(message);
    }
    const file = await create('file://10.0.0.1/path/to/source');
    expect(file.statusCode).toBe(400);
    expect(file.json<{ message: string }>().message).toContain('is not a valid remote uri');
    // With model_id MLflow names the model in its refusal; a prompt's source is not checked.
    const model = (await ml(alice, 'POST', '/logged-models', { experiment_id: await newExperiment(alice) })).json<{
      model: { info: { model_id: string } };
    }>().model.info.model_id;
    const byModel = await create('file:///path/to/model', { model_id: model });
    expect(byModel.statusCode).toBe(400);
    expect(byModel.json<{ message: string }>().message).toContain('the model_id request parameter');
    const prompt = await create('/prompts/p', { tags: [{ key: 'mlflow.prompt.is_prompt', value: 'true' }] });
    expect(prompt.statusCode).toBe(200);
    // Only the accepted ones (and the prompt) became versions.
    const versions = await ml(alice, 'GET', '/model-versions/search', { filter: `name = '${name}'` });
    expect(versions.json<{ model_versions: unknown[] }>().model_versions).toHaveLength(9);
  });
});
