import { describe, expect, it } from 'vitest';
import { DIALECTS, call, useTestServer, useUser } from './harness.js';

const BASE = '/api/2.0/mlflow';

describe.each(DIALECTS)("MLflow system tags become the experiment's run info on %s", (dialect) => {
  const server = useTestServer(dialect);
  const alice = useUser(server);

  const post = (path: string, payload: Record<string, unknown>) =>
    server.app.inject({ method: 'POST', url: `${BASE}${path}`, headers: { authorization: `Bearer ${alice.key}` }, payload });

  const runInfo = async (runId: string): Promise<Record<string, string>> => {
    const res = await call(server.app, alice, 'GET', `/api/experiments/${runId}`);
    expect(res.statusCode).toBe(200);
    return res.json<{ runInfo: Record<string, string> }>().runInfo;
  };

  it('runs/create, set-tag, log-batch tags and delete-tag keep runInfo in step with the tags', async () => {
    const created = await post('/runs/create', {
      experiment_id: '0',
      tags: [
        { key: 'mlflow.user', value: 'ada' },
        { key: 'mlflow.source.name', value: 'train.py' },
        { key: 'team', value: 'vision' },
      ],
    });
    expect(created.statusCode).toBe(200);
    const runId = created.json<{ run: { info: { run_id: string } } }>().run.info.run_id;
    expect(await runInfo(runId)).toEqual({ user: 'ada', source: 'train.py' });

    expect((await post('/runs/set-tag', { run_id: runId, key: 'mlflow.source.git.commit', value: 'abc123' })).statusCode).toBe(
      200,
    );
    const batch = await post('/runs/log-batch', { run_id: runId, tags: [{ key: 'mlflow.note.content', value: 'baseline' }] });
    expect(batch.statusCode).toBe(200);
    expect(await runInfo(runId)).toEqual({ user: 'ada', source: 'train.py', 'git.commit': 'abc123', notes: 'baseline' });

    expect((await post('/runs/delete-tag', { run_id: runId, key: 'mlflow.note.content' })).statusCode).toBe(200);
    expect(await runInfo(runId)).toEqual({ user: 'ada', source: 'train.py', 'git.commit': 'abc123' });
  });

  it('keeps run info that did not come from MLflow tags', async () => {
    const made = await call(server.app, alice, 'POST', '/api/experiments', { name: 'tora-run', runInfo: { host: 'gpu-1' } });
    expect(made.statusCode).toBe(201);
    const id = made.json<{ experiment: { id: string } }>().experiment.id;
    expect((await post('/runs/set-tag', { run_id: id, key: 'mlflow.user', value: 'ada' })).statusCode).toBe(200);
    expect(await runInfo(id)).toEqual({ host: 'gpu-1', user: 'ada' });
  });
});
