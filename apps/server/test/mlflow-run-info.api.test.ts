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

describe.each(DIALECTS)('MLflow nested runs join their parent run’s group on %s', (dialect) => {
  const server = useTestServer(dialect);
  const alice = useUser(server);
  const bob = useUser(server);

  const post = (user: typeof alice, path: string, payload: Record<string, unknown>) =>
    server.app.inject({ method: 'POST', url: `${BASE}${path}`, headers: { authorization: `Bearer ${user.key}` }, payload });

  const newRun = async (user: typeof alice, payload: Record<string, unknown>): Promise<string> => {
    const res = await post(user, '/runs/create', { experiment_id: '0', ...payload });
    expect(res.statusCode).toBe(200);
    return res.json<{ run: { info: { run_id: string } } }>().run.info.run_id;
  };

  const groupOf = async (user: typeof alice, id: string): Promise<string | null> => {
    const res = await call(server.app, user, 'GET', `/api/experiments/${id}`);
    expect(res.statusCode).toBe(200);
    return res.json<{ group: string | null }>().group;
  };

  const parentTag = (id: string) => [{ key: 'mlflow.parentRunId', value: id }];

  it('takes the parent’s name from the tag at runs/create, set-tag and log-batch; the parent has none', async () => {
    const parent = await newRun(alice, { run_name: 'tpe-search' });
    const created = await newRun(alice, { run_name: '0', tags: parentTag(parent) });
    const tagged = await newRun(alice, { run_name: '1' });
    expect(await groupOf(alice, tagged)).toBeNull();
    expect((await post(alice, '/runs/set-tag', { run_id: tagged, key: 'mlflow.parentRunId', value: parent })).statusCode).toBe(
      200,
    );
    const batched = await newRun(alice, { run_name: '2' });
    expect((await post(alice, '/runs/log-batch', { run_id: batched, tags: parentTag(parent) })).statusCode).toBe(200);

    for (const id of [created, tagged, batched]) expect(await groupOf(alice, id)).toBe('tpe-search');
    expect(await groupOf(alice, parent)).toBeNull();
    const grouped = await call(server.app, alice, 'GET', '/api/experiments?groupBy=group');
    const groups = grouped.json<{ groups: { value: string | null; count: number }[] }>().groups;
    expect(groups.find((g) => g.value === 'tpe-search')?.count).toBe(3);
  });

  it('keeps a group the run already has, and names a parent it cannot see only by its id', async () => {
    const parent = await newRun(alice, { run_name: 'sweep' });
    const child = await newRun(alice, { run_name: 'c' });
    expect((await call(server.app, alice, 'PUT', `/api/experiments/${child}`, { group: 'seeds' })).statusCode).toBe(200);
    expect((await post(alice, '/runs/set-tag', { run_id: child, key: 'mlflow.parentRunId', value: parent })).statusCode).toBe(
      200,
    );
    expect(await groupOf(alice, child)).toBe('seeds');

    // Bob's run names Alice's run as its parent: its group is the id he gave, never Alice's run name.
    const bobs = await newRun(bob, { run_name: 'b', tags: parentTag(parent) });
    expect(await groupOf(bob, bobs)).toBe(parent);
    const unknown = await newRun(bob, { run_name: 'u', tags: parentTag('not-a-run') });
    expect(await groupOf(bob, unknown)).toBe('not-a-run');
  });
});
