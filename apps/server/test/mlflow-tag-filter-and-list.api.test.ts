import { describe, expect, it } from 'vitest';
import { DIALECTS, addMember, useTestServer, useUser } from './harness.js';
import { mlflowApi } from './mlflow-harness.js';

describe.each(DIALECTS)("MLflow's smaller routes on %s", (dialect) => {
  const server = useTestServer(dialect);
  const alice = useUser(server);
  const bob = useUser(server);
  const { ml, mlError, newExperiment, newRun } = mlflowApi(server);

  const upload = (user: typeof alice, path: string, body: string) =>
    server.app.inject({
      method: 'PUT',
      url: `/api/2.0/mlflow-artifacts/artifacts/${path}`,
      headers: { authorization: `Bearer ${user.key}`, 'content-type': 'application/octet-stream' },
      payload: body,
    });

  it('experiments/search takes the tag. prefix as MLflow does (and tags., times, IN)', async () => {
    const tagged = await newExperiment(alice, `tagged-${Math.random()}`);
    const other = await newExperiment(alice, `other-${Math.random()}`);
    await ml(alice, 'POST', '/experiments/set-experiment-tag', { experiment_id: tagged, key: 'team', value: 'vision' });
    await ml(alice, 'POST', '/experiments/set-experiment-tag', { experiment_id: other, key: 'team', value: 'nlp' });
    const ids = async (filter: string): Promise<string[]> => {
      const res = await ml(alice, 'POST', '/experiments/search', { filter, max_results: 1000 });
      expect(res.statusCode, filter).toBe(200);
      return (res.json<{ experiments?: { experiment_id: string }[] }>().experiments ?? []).map((e) => e.experiment_id).sort();
    };
    expect(await ids("tag.team = 'vision'")).toEqual([tagged]);
    expect(await ids("tags.team = 'vision'")).toEqual([tagged]);
    expect(await ids("tag.team LIKE '%p'")).toEqual([other]);
    expect(await ids(`experiment_id IN ('${tagged}', '${other}') AND tag.team != 'nlp'`)).toEqual([tagged]);
    expect(await ids('creation_time > 0 AND tag.team IS NOT NULL')).toEqual([tagged, other].sort());
    const bad = await ml(alice, 'POST', '/experiments/search', { filter: "metric.x = '1'" });
    expect(bad.statusCode).toBe(400);
    expect(mlError(bad)).toBe('INVALID_PARAMETER_VALUE');
  });

  it('runs/search filters and orders on attributes.user_id ("unknown" without mlflow.user) and artifact_uri', async () => {
    const exp = await newExperiment(alice);
    const ada = await newRun(alice, exp, { run_name: 'ada', tags: [{ key: 'mlflow.user', value: 'ada' }] });
    await newRun(alice, exp, { run_name: 'nobody' });
    const names = async (filter: string, orderBy: string[] = []): Promise<string[]> => {
      const res = await ml(alice, 'POST', '/runs/search', { experiment_ids: [exp], filter, order_by: orderBy });
      expect(res.statusCode, filter).toBe(200);
      return (res.json<{ runs?: { info: { run_name: string } }[] }>().runs ?? []).map((r) => r.info.run_name);
    };
    expect(await names("attributes.user_id = 'ada'")).toEqual(['ada']);
    expect(await names("user_id = 'unknown'")).toEqual(['nobody']);
    expect(await names("attributes.user_id LIKE '%'", ['attributes.user_id DESC'])).toEqual(['nobody', 'ada']);
    expect(await names(`attributes.artifact_uri = 'mlflow-artifacts:/${exp}/${ada}/artifacts'`)).toEqual(['ada']);
    expect(await names("attributes.artifact_uri LIKE 'mlflow-artifacts:/%'")).toHaveLength(2);
  });

  it("artifacts/list lists one directory of a run's files relative to its root_uri", async () => {
    const exp = await newExperiment(alice);
    const runId = await newRun(alice, exp);
    const root = `${exp}/${runId}/artifacts`;
    expect((await upload(alice, `${root}/model/weights.bin`, 'abcd')).statusCode).toBe(200);
    expect((await upload(alice, `${root}/notes.txt`, 'hi')).statusCode).toBe(200);
    const list = (path?: string) =>
      ml(alice, 'GET', '/artifacts/list', path === undefined ? { run_id: runId } : { run_id: runId, path });
    const top = await list();
    expect(top.statusCode).toBe(200);
    expect(top.json()).toEqual({
      root_uri: `mlflow-artifacts:/${root}`,
      files: [
        { path: 'model', is_dir: true },
        { path: 'notes.txt', is_dir: false, file_size: 2 },
      ],
    });
    const inner = (await list('model')).json();
    expect(inner.files).toEqual([{ path: 'model/weights.bin', is_dir: false, file_size: 4 }]);
    // `.`, empty segments and a trailing slash read as MLflow reads them; the run_uuid alias works.
    expect((await list('./model/')).json().files).toEqual(inner.files);
    expect((await ml(alice, 'GET', '/artifacts/list', { run_uuid: runId, path: 'model' })).json().files).toEqual(inner.files);
    // A path that names no directory lists nothing.
    expect((await list('nothing/here')).json()).toEqual({ root_uri: `mlflow-artifacts:/${root}` });
    expect((await list('notes.txt')).json()).toEqual({ root_uri: `mlflow-artifacts:/${root}` });
  });

  it("artifacts/list refuses what MLflow's validate_path_is_safe refuses, and follows the workspace", async () => {
    const exp = await newExperiment(alice);
    const runId = await newRun(alice, exp);
    for (const path of ['../x', 'a/../../b', '..', '/etc', 'a\\b', 'C:/x', 'a#b']) {
      const res = await ml(alice, 'GET', '/artifacts/list', { run_id: runId, path });
      expect(res.statusCode, path).toBe(400);
      expect(mlError(res), path).toBe('INVALID_PARAMETER_VALUE');
      expect(res.json().message, path).toBe('Invalid path');
    }
    const noRun = await ml(alice, 'GET', '/artifacts/list', {});
    expect(noRun.statusCode).toBe(400);
    expect(noRun.json().message).toContain("'run_id'");
    const stranger = await ml(bob, 'GET', '/artifacts/list', { run_id: runId });
    expect(stranger.statusCode).toBe(404);
    expect(mlError(stranger)).toBe('RESOURCE_DOES_NOT_EXIST');
    await addMember(server.app, alice, exp, bob, 'viewer');
    expect((await ml(bob, 'GET', '/artifacts/list', { run_id: runId })).statusCode).toBe(200);
  });
});
