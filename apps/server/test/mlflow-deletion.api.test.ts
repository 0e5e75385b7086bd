import { describe, expect, it } from 'vitest';
import {
  DIALECTS,
  addMember,
  call,
  createExperiment,
  errorCode,
  signUp,
  useTestServer,
  useUser,
  type TestUser,
} from './harness.js';

/**
 * MLflow's runs/delete and experiments/delete are soft; Tora's own routes treat a run or workspace
 * so deleted as gone (not listed, 404) until MLflow's restore brings it back.
 */
describe.each(DIALECTS)('runs and experiments deleted through MLflow, seen from Tora on %s', (dialect) => {
  const server = useTestServer(dialect);
  const alice = useUser(server);

  const ml = (user: TestUser, path: string, body: Record<string, unknown>) =>
    server.app.inject({
      method: 'POST',
      url: `/api/2.0/mlflow${path}`,
      headers: { authorization: `Bearer ${user.key}` },
      payload: body,
    });

  const listedIds = async (user: TestUser, query = ''): Promise<{ ids: string[]; total: number }> => {
    const res = await call(server.app, user, 'GET', `/api/experiments?limit=200${query}`);
    expect(res.statusCode).toBe(200);
    const body = res.json<{ experiments: { id: string }[]; total: number }>();
    return { ids: body.experiments.map((e) => e.id), total: body.total };
  };

  async function mlflowWorkspace(user: TestUser): Promise<string> {
    const res = await ml(user, '/experiments/create', { name: `exp-${Math.random().toString(36).slice(2)}` });
    expect(res.statusCode).toBe(200);
    return res.json<{ experiment_id: string }>().experiment_id;
  }

  async function mlflowRun(user: TestUser, workspaceId: string, name: string): Promise<string> {
    const res = await ml(user, '/runs/create', { experiment_id: workspaceId, run_name: name });
    expect(res.statusCode).toBe(200);
    const runId = res.json<{ run: { info: { run_id: string } } }>().run.info.run_id;
    const logged = await ml(user, '/runs/log-batch', {
      run_id: runId,
      params: [{ key: 'lr', value: '0.001' }],
      metrics: [{ key: 'loss', value: 0.5, timestamp: 1, step: 0 }],
    });
    expect(logged.statusCode).toBe(200);
    return runId;
  }

  it('a run deleted through MLflow leaves every Tora list and read (404), and runs/restore brings it back', async () => {
    const ws = await mlflowWorkspace(alice);
    const kept = await mlflowRun(alice, ws, 'kept');
    const gone = await mlflowRun(alice, ws, 'gone');
    // A Tora experiment referencing the run to delete.
    const child = await createExperiment(server.app, alice, { name: 'child', workspaceId: ws, referenceId: gone });
    expect((await ml(alice, '/runs/log-parameter', { run_id: gone, key: 'only_gone', value: '1' })).statusCode).toBe(200);
    const columns = async () =>
      (await call(server.app, alice, 'GET', `/api/workspaces/${ws}/columns`)).json<{ hyperparams: string[] }>();
    expect((await columns()).hyperparams).toContain('only_gone');

    expect((await ml(alice, '/runs/delete', { run_id: gone })).statusCode).toBe(200);

    const all = await listedIds(alice);
    expect(all.ids).toContain(kept);
    expect(all.ids).not.toContain(gone);
    const inWs = await listedIds(alice, `&workspace=${ws}`);
    expect(inWs).toEqual({ ids: expect.arrayContaining([kept, child]) as string[], total: 2 });
    expect((await listedIds(alice, `&workspace=${ws}&filter=${encodeURIComponent('params.lr = 0.001')}`)).ids).toEqual([kept]);

    for (const url of [
      `/api/experiments/${gone}`,
      `/api/experiments/${gone}/metrics/series?name=loss`,
      `/api/experiments/compare?ids=${kept},${gone}&metrics=loss&budget=10`,
      `/api/experiments/${gone}/ref`,
      `/api/ai/analysis?experimentId=${gone}`,
    ]) {
      const res = await call(server.app, alice, 'GET', url);
      expect(res.statusCode, url).toBe(404);
      expect(errorCode(res)).toBe('EXPERIMENT_NOT_FOUND');
    }
    const write = await call(server.app, alice, 'PUT', `/api/experiments/${gone}`, { name: 'renamed' });
    expect(write.statusCode).toBe(404);
    const ingest = await call(server.app, alice, 'POST', `/api/experiments/${gone}/metrics/batch`, [{ name: 'loss', value: 1 }]);
    expect(ingest.statusCode).toBe(404);
    // The reference is not shown while the referenced run is deleted.
    expect((await call(server.app, alice, 'GET', `/api/experiments/${child}`)).json().referenceId).toBeNull();
    expect((await columns()).hyperparams).toEqual(['lr']);

    // MLflow still sees it, as deleted, with its metric history, as MLflow's server serves it.
    expect((await ml(alice, '/runs/search', { experiment_ids: [ws], run_view_type: 'DELETED_ONLY' })).json().runs).toHaveLength(
      1,
    );
    const mlGet = (path: string) =>
      server.app.inject({ method: 'GET', url: `/api/2.0/mlflow${path}`, headers: { authorization: `Bearer ${alice.key}` } });
    const history = await mlGet(`/metrics/get-history?run_id=${gone}&metric_key=loss`);
    expect(history.statusCode).toBe(200);
    expect(history.json().metrics).toEqual([{ key: 'loss', value: 0.5, timestamp: 1, step: 0 }]);
    const interval = await mlGet(`/metrics/get-history-bulk-interval?run_ids=${gone}&metric_key=loss&max_results=10`);
    expect(interval.statusCode).toBe(200);
    expect(interval.json().metrics).toMatchObject([{ run_id: gone, step: 0, value: 0.5 }]);

    expect((await ml(alice, '/runs/restore', { run_id: gone })).statusCode).toBe(200);
    expect((await listedIds(alice, `&workspace=${ws}`)).total).toBe(3);
    const back = await call(server.app, alice, 'GET', `/api/experiments/${gone}`);
    expect(back.statusCode).toBe(200);
    expect(back.json()).toMatchObject({ name: 'gone', latestMetrics: { loss: 0.5 } });
    expect((await call(server.app, alice, 'GET', `/api/experiments/${child}`)).json().referenceId).toBe(gone);
    expect((await columns()).hyperparams).toEqual(['lr', 'only_gone']);
    const compare = await call(server.app, alice, 'GET', `/api/experiments/compare?ids=${kept},${gone}&metrics=loss&budget=10`);
    expect(compare.statusCode).toBe(200);
  });

  it('an experiment (workspace) deleted through MLflow leaves Tora for every member until experiments/restore', async () => {
    const bob = await signUp(server.app);
    const ws = await mlflowWorkspace(alice);
    await addMember(server.app, alice, ws, bob, 'editor');
    const run = await mlflowRun(alice, ws, 'in-deleted-ws');
    const model = await ml(alice, '/logged-models', { experiment_id: ws });
    expect(model.statusCode).toBe(200);
    const modelId: string = model.json().model.info.model_id;
    const modelFile = `/api/2.0/mlflow-artifacts/artifacts/${ws}/models/${modelId}/artifacts/w.bin`;
    const upload = await server.app.inject({
      method: 'PUT',
      url: modelFile,
      headers: { authorization: `Bearer ${alice.key}`, 'content-type': 'application/octet-stream' },
      payload: 'weights',
    });
    expect(upload.statusCode).toBe(200);

    expect((await ml(alice, '/experiments/delete', { experiment_id: ws })).statusCode).toBe(200);

    for (const user of [alice, bob]) {
      const workspaces = (await call(server.app, user, 'GET', '/api/workspaces')).json<{ workspaces: { id: string }[] }>();
      const ids = workspaces.workspaces.map((w) => w.id);
      expect(ids).not.toContain(ws);
      expect(ids).toContain(user.defaultWorkspaceId);
      expect((await listedIds(user)).ids).not.toContain(run);
      for (const url of [`/api/workspaces/${ws}`, `/api/experiments?workspace=${ws}`]) {
        const res = await call(server.app, user, 'GET', url);
        expect(res.statusCode, url).toBe(404);
        expect(errorCode(res)).toBe('WORKSPACE_NOT_FOUND');
      }
      const direct = await call(server.app, user, 'GET', `/api/experiments/${run}`);
      expect(direct.statusCode).toBe(404);
      expect(errorCode(direct)).toBe('EXPERIMENT_NOT_FOUND');
    }
    const create = await call(server.app, bob, 'POST', '/api/experiments', { name: 'x', workspaceId: ws });
    expect(create.statusCode).toBe(404);

    // MLflow still answers for it (deleted), and its runs.
    const got = await server.app.inject({
      method: 'GET',
      url: `/api/2.0/mlflow/experiments/get?experiment_id=${ws}`,
      headers: { authorization: `Bearer ${alice.key}` },
    });
    expect(got.json().experiment.lifecycle_stage).toBe('deleted');
    expect((await ml(alice, '/runs/search', { experiment_ids: [ws] })).json().runs).toHaveLength(1);
    // Its logged models and their files too (MLflow's routes see what MLflow deleted).
    const headers = { authorization: `Bearer ${bob.key}` };
    const gotModel = await server.app.inject({ method: 'GET', url: `/api/2.0/mlflow/logged-models/${modelId}`, headers });
    expect(gotModel.statusCode).toBe(200);
    expect(gotModel.json().model.info.model_id).toBe(modelId);
    const download = await server.app.inject({ method: 'GET', url: modelFile, headers });
    expect(download.statusCode).toBe(200);
    expect(download.body).toBe('weights');

    expect((await ml(alice, '/experiments/restore', { experiment_id: ws })).statusCode).toBe(200);
    for (const user of [alice, bob]) {
      expect((await call(server.app, user, 'GET', `/api/workspaces/${ws}`)).statusCode).toBe(200);
      expect((await listedIds(user, `&workspace=${ws}`)).ids).toEqual([run]);
    }
  });

  it("a user's default workspace cannot be deleted through MLflow (as MLflow keeps experiment 0)", async () => {
    for (const id of ['0', alice.defaultWorkspaceId]) {
      const res = await ml(alice, '/experiments/delete', { experiment_id: id });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' });
    }
    expect((await call(server.app, alice, 'GET', `/api/workspaces/${alice.defaultWorkspaceId}`)).statusCode).toBe(200);
  });
});
