import { describe, expect, it } from 'vitest';
import { DIALECTS, useTestServer, useUser } from './harness.js';
import { mlflowApi } from './mlflow-harness.js';

/** Issue 19's small MLflow gaps, each as MLflow's own server answers it. */
describe.each(DIALECTS)('MLflow small compatibility fixes on %s', (dialect) => {
  const server = useTestServer(dialect);
  const alice = useUser(server);
  const { ml, mlError, newExperiment, newRun } = mlflowApi(server);

  it('experiments/delete-experiment-tag removes a tag; a missing one is 404', async () => {
    const exp = await newExperiment(alice);
    await ml(alice, 'POST', '/experiments/set-experiment-tag', { experiment_id: exp, key: 'team', value: 'nlp' });
    await ml(alice, 'POST', '/experiments/set-experiment-tag', { experiment_id: exp, key: 'keep', value: '1' });
    expect((await ml(alice, 'POST', '/experiments/delete-experiment-tag', { experiment_id: exp, key: 'team' })).statusCode).toBe(
      200,
    );
    const got = (await ml(alice, 'GET', '/experiments/get', { experiment_id: exp })).json().experiment;
    expect(got.tags).toEqual([{ key: 'keep', value: '1' }]);
    const again = await ml(alice, 'POST', '/experiments/delete-experiment-tag', { experiment_id: exp, key: 'team' });
    expect(again.statusCode).toBe(404);
    expect(mlError(again)).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  it('artifact_location must be a string (400 otherwise); a string one is accepted', async () => {
    for (const bad of [1, true, { uri: 's3://x' }]) {
      const res = await ml(alice, 'POST', '/experiments/create', { name: `e-${String(Math.random())}`, artifact_location: bad });
      expect(res.statusCode, JSON.stringify(bad)).toBe(400);
      expect(mlError(res)).toBe('INVALID_PARAMETER_VALUE');
      expect(res.json().message).toContain('artifact_location');
    }
    const ok = await ml(alice, 'POST', '/experiments/create', { name: 'with-location', artifact_location: 's3://bucket/x' });
    expect(ok.statusCode).toBe(200);
  });

  it('a run created without a user reads user_id "unknown"; with mlflow.user, that user', async () => {
    const exp = await newExperiment(alice);
    const anonymous = await newRun(alice, exp);
    expect((await ml(alice, 'GET', '/runs/get', { run_id: anonymous })).json().run.info.user_id).toBe('unknown');
    const named = await newRun(alice, exp, { tags: [{ key: 'mlflow.user', value: 'ada' }] });
    expect((await ml(alice, 'GET', '/runs/get', { run_id: named })).json().run.info.user_id).toBe('ada');
  });
});
