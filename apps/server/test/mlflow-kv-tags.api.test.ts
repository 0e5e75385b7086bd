import { describe, expect, it } from 'vitest';
import { DIALECTS, addMember, call, errorCode, signUp, useTestServer, useUser } from './harness.js';

const BASE = '/api/2.0/mlflow';
type Tag = { key: string; value: string; system: boolean };
type RunTags = { run: { data: { tags?: { key: string; value: string }[] } } };

describe.each(DIALECTS)("an experiment's MLflow key/value tags through Tora's routes on %s", (dialect) => {
  const server = useTestServer(dialect);
  const owner = useUser(server);

  const mlflow = (key: string, path: string, payload: Record<string, unknown>) =>
    server.app.inject({ method: 'POST', url: `${BASE}${path}`, headers: { authorization: `Bearer ${key}` }, payload });

  async function run(workspaceName: string): Promise<{ workspaceId: string; runId: string }> {
    const exp = await mlflow(owner.key, '/experiments/create', { name: workspaceName });
    expect(exp.statusCode).toBe(200);
    const experimentId = exp.json<{ experiment_id: string }>().experiment_id;
    const created = await mlflow(owner.key, '/runs/create', {
      experiment_id: experimentId,
      tags: [
        { key: 'mlflow.user', value: 'ada' },
        { key: 'team', value: 'vision' },
      ],
    });
    expect(created.statusCode).toBe(200);
    return { workspaceId: experimentId, runId: created.json<{ run: { info: { run_id: string } } }>().run.info.run_id };
  }

  const tagsOf = async (runId: string) => {
    const res = await server.app.inject({
      method: 'GET',
      url: `${BASE}/runs/get?run_id=${runId}`,
      headers: { authorization: `Bearer ${owner.key}` },
    });
    expect(res.statusCode).toBe(200);
    return Object.fromEntries((res.json<RunTags>().run.data.tags ?? []).map((t) => [t.key, t.value]));
  };

  it('lists tags set through MLflow, marks mlflow.* as system, and edits read back through runs/get', async () => {
    const { runId } = await run('kv-edit');
    expect((await mlflow(owner.key, '/runs/set-tag', { run_id: runId, key: 'stage', value: 'baseline' })).statusCode).toBe(200);

    const listed = await call(server.app, owner, 'GET', `/api/experiments/${runId}/kv-tags`);
    expect(listed.statusCode).toBe(200);
    expect(listed.json<{ tags: Tag[] }>().tags).toEqual([
      { key: 'mlflow.user', value: 'ada', system: true },
      { key: 'stage', value: 'baseline', system: false },
      { key: 'team', value: 'vision', system: false },
    ]);

    const changed = await call(server.app, owner, 'PUT', `/api/experiments/${runId}/kv-tags/stage`, { value: 'final' });
    expect(changed.statusCode).toBe(200);
    const slashKey = 'data/split name';
    const added = await call(server.app, owner, 'PUT', `/api/experiments/${runId}/kv-tags/${encodeURIComponent(slashKey)}`, {
      value: 'val',
    });
    expect(added.statusCode).toBe(200);
    expect(added.json<{ tags: Tag[] }>().tags.map((t) => t.key)).toContain(slashKey);
    expect((await call(server.app, owner, 'DELETE', `/api/experiments/${runId}/kv-tags/team`)).statusCode).toBe(200);

    const back = await tagsOf(runId);
    expect(back).toMatchObject({ stage: 'final', [slashKey]: 'val', 'mlflow.user': 'ada' });
    expect(back).not.toHaveProperty('team');
  });

  it('refuses mlflow.* keys, an unknown tag, an over-long value and unknown fields with a 4xx, changing nothing', async () => {
    const { runId } = await run('kv-refuse');
    const system = await call(server.app, owner, 'PUT', `/api/experiments/${runId}/kv-tags/mlflow.user`, { value: 'eve' });
    expect(system.statusCode).toBe(400);
    expect(system.json<{ error: { message: string } }>().error.message).toMatch(/MLflow's own/);
    expect((await call(server.app, owner, 'DELETE', `/api/experiments/${runId}/kv-tags/mlflow.user`)).statusCode).toBe(400);

    const missing = await call(server.app, owner, 'DELETE', `/api/experiments/${runId}/kv-tags/nope`);
    expect(missing.statusCode).toBe(404);
    expect(errorCode(missing)).toBe('TAG_NOT_FOUND');

    const long = await call(server.app, owner, 'PUT', `/api/experiments/${runId}/kv-tags/big`, { value: 'x'.repeat(8001) });
    expect(long.statusCode).toBe(400);
    expect(errorCode(long)).toBe('VALIDATION_ERROR');
    const longKey = await call(server.app, owner, 'PUT', `/api/experiments/${runId}/kv-tags/${'k'.repeat(251)}`, { value: 'v' });
    expect(longKey.statusCode).toBe(400);
    const extra = await call(server.app, owner, 'PUT', `/api/experiments/${runId}/kv-tags/a`, { value: 'v', other: 1 });
    expect(extra.statusCode).toBe(400);
    const blank = await call(server.app, owner, 'PUT', `/api/experiments/${runId}/kv-tags/%20`, { value: 'v' });
    expect(blank.statusCode).toBe(400);
    for (const control of ['%01', '%1F', '%7F']) {
      const res = await call(server.app, owner, 'PUT', `/api/experiments/${runId}/kv-tags/a${control}b`, { value: 'v' });
      expect(res.statusCode, control).toBe(400);
    }

    expect(await tagsOf(runId)).toEqual({ 'mlflow.user': 'ada', team: 'vision', 'mlflow.runName': expect.any(String) });
  });

  it('lets viewers read but not write, and answers non-members 404', async () => {
    const { workspaceId, runId } = await run('kv-access');
    const viewer = await signUp(server.app);
    const stranger = await signUp(server.app);
    await addMember(server.app, owner, workspaceId, viewer, 'viewer');

    expect((await call(server.app, viewer, 'GET', `/api/experiments/${runId}/kv-tags`)).statusCode).toBe(200);
    const denied = await call(server.app, viewer, 'PUT', `/api/experiments/${runId}/kv-tags/team`, { value: 'x' });
    expect(denied.statusCode).toBe(403);
    expect((await call(server.app, viewer, 'DELETE', `/api/experiments/${runId}/kv-tags/team`)).statusCode).toBe(403);

    for (const [method, payload] of [['GET'], ['PUT', { value: 'x' }], ['DELETE']] as const) {
      const url = `/api/experiments/${runId}/kv-tags${method === 'GET' ? '' : '/team'}`;
      const res = await call(server.app, stranger, method, url, payload);
      expect(res.statusCode).toBe(404);
      expect(errorCode(res)).toBe('EXPERIMENT_NOT_FOUND');
    }
    expect((await tagsOf(runId)).team).toBe('vision');
  });
});
