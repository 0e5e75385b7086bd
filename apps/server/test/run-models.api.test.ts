import { describe, expect, it } from 'vitest';
import { DIALECTS, call, useTestServer, useUser, type TestUser } from './harness.js';
import { mlflowApi } from './mlflow-harness.js';

const ARTIFACTS = '/api/2.0/mlflow-artifacts/artifacts';
const MLMODEL = (flavor: string) =>
  `artifact_path: model\nflavors:\n  python_function:\n    env:\n      conda: conda.yaml\n    loader_module: mlflow.${flavor}\n  ${flavor}:\n    pickled_model: model.pkl\n    ${flavor}_version: 1.5.0\nmlflow_version: 3.1.0\n`;

describe.each(DIALECTS)('the Models section’s listing of a run on %s', (dialect) => {
  const server = useTestServer(dialect);
  const alice = useUser(server);
  const stranger = useUser(server);
  const { ml, newExperiment, newRun } = mlflowApi(server);

  const put = (user: TestUser, url: string, payload: string) =>
    server.app.inject({
      method: 'PUT',
      url,
      headers: { authorization: `Bearer ${user.key}`, 'content-type': 'application/octet-stream' },
      payload,
    });

  it('lists logged models and MLmodel directories with flavors, files and size, and the versions registered from the run', async () => {
    const ws = await newExperiment(alice);
    const runId = await newRun(alice, ws);
    // MLflow 3: a logged model made by the run, its files under the model's own directory.
    const created = await ml(alice, 'POST', '/logged-models', {
      experiment_id: ws,
      name: 'classifier',
      model_type: '',
      source_run_id: runId,
    });
    const modelId = created.json().model.info.model_id as string;
    const modelRoot = `${ARTIFACTS}/${ws}/${runId}/models/${modelId}/artifacts`;
    expect((await put(alice, `${modelRoot}/MLmodel`, MLMODEL('sklearn'))).statusCode).toBe(200);
    expect((await put(alice, `${modelRoot}/model.pkl`, 'x'.repeat(1000))).statusCode).toBe(200);
    expect((await put(alice, `${modelRoot}/env/conda.yaml`, 'name: x\n')).statusCode).toBe(200);
    await ml(alice, 'PATCH', `/logged-models/${modelId}`, { model_id: modelId, status: 'LOGGED_MODEL_READY' });
    // MLflow 2 style: a directory of the run's own files holding an MLmodel; and a file that is not a model.
    const runRoot = `${ARTIFACTS}/${ws}/${runId}/artifacts`;
    await put(alice, `${runRoot}/checkpoints/best/MLmodel`, MLMODEL('pytorch'));
    await put(alice, `${runRoot}/checkpoints/best/data/model.pth`, 'y'.repeat(500));
    await put(alice, `${runRoot}/notes/not-an-MLmodel.txt`, 'z');
    // Registered versions: one from each model, and one from elsewhere in the run.
    await ml(alice, 'POST', '/registered-models/create', { name: 'fraud' });
    await ml(alice, 'POST', '/model-versions/create', {
      name: 'fraud',
      source: `models:/${modelId}`,
      run_id: runId,
      model_id: modelId,
    });
    await ml(alice, 'POST', '/model-versions/create', {
      name: 'fraud',
      source: `runs:/${runId}/checkpoints/best`,
      run_id: runId,
    });
    await ml(alice, 'POST', '/model-versions/create', { name: 'fraud', source: `runs:/${runId}/other`, run_id: runId });
    await ml(alice, 'POST', '/registered-models/alias', { name: 'fraud', alias: 'champion', version: '2' });
    // A version of another run is not this run's.
    const other = await newRun(alice, ws);
    await ml(alice, 'POST', '/model-versions/create', { name: 'fraud', source: `runs:/${other}/m`, run_id: other });

    const res = await call(server.app, alice, 'GET', `/api/experiments/${runId}/models`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      models: [
        {
          key: modelId,
          kind: 'logged',
          name: 'classifier',
          path: null,
          status: 'READY',
          flavors: ['python_function', 'sklearn'],
          size: MLMODEL('sklearn').length + 1000 + 8,
          fileCount: 3,
          files: [
            { path: 'MLmodel', size: MLMODEL('sklearn').length },
            { path: 'env/conda.yaml', size: 8 },
            { path: 'model.pkl', size: 1000 },
          ],
          uri: `models:/${modelId}`,
        },
        {
          key: 'dir:checkpoints/best',
          kind: 'directory',
          name: 'checkpoints/best',
          path: 'checkpoints/best',
          status: 'READY',
          flavors: ['python_function', 'pytorch'],
          size: MLMODEL('pytorch').length + 500,
          fileCount: 2,
          files: [
            { path: 'MLmodel', size: MLMODEL('pytorch').length },
            { path: 'data/model.pth', size: 500 },
          ],
          uri: `runs:/${runId}/checkpoints/best`,
        },
      ],
      registered: [
        { name: 'fraud', version: 1, stage: 'None', aliases: [], source: `models:/${modelId}`, model: modelId },
        {
          name: 'fraud',
          version: 2,
          stage: 'None',
          aliases: ['champion'],
          source: `runs:/${runId}/checkpoints/best`,
          model: 'dir:checkpoints/best',
        },
        { name: 'fraud', version: 3, stage: 'None', aliases: [], source: `runs:/${runId}/other`, model: null },
      ],
    });
  });

  it('answers an empty list for a run with no models, and 404 to non-members', async () => {
    const ws = await newExperiment(alice);
    const runId = await newRun(alice, ws);
    expect((await call(server.app, alice, 'GET', `/api/experiments/${runId}/models`)).json()).toEqual({
      models: [],
      registered: [],
    });
    const hidden = await call(server.app, stranger, 'GET', `/api/experiments/${runId}/models`);
    expect(hidden.statusCode).toBe(404);
    expect(hidden.json().error.code).toBe('EXPERIMENT_NOT_FOUND');
  });
});
