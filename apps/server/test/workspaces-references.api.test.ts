import { describe, expect, it } from 'vitest';
import { DIALECTS, addMember, call, createExperiment, createWorkspace, errorCode, signUp, useTestServer } from './harness.js';

describe.each(DIALECTS)('workspaces and references on %s', (dialect) => {
  const server = useTestServer(dialect);

  it('returns the created workspace object at the top level and lists it with the role', async () => {
    const owner = await signUp(server.app);
    const res = await call(server.app, owner, 'POST', '/api/workspaces', { name: 'Team', description: 'ours' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ name: 'Team', description: 'ours', role: 'owner' });
    const list = (await call(server.app, owner, 'GET', '/api/workspaces')).json().workspaces;
    expect(list.map((w: { name: string; role: string }) => [w.name, w.role])).toEqual([
      ['Default', 'owner'],
      ['Team', 'owner'],
    ]);
  });

  it('manages members: add by email, change role, leave, and protects the last owner', async () => {
    const owner = await signUp(server.app);
    const member = await signUp(server.app);
    const ws = await createWorkspace(server.app, owner);
    await addMember(server.app, owner, ws, member, 'viewer');
    const dup = await call(server.app, owner, 'POST', `/api/workspaces/${ws}/members`, { email: member.email, role: 'editor' });
    expect(dup.statusCode).toBe(409);
    const missing = await call(server.app, owner, 'POST', `/api/workspaces/${ws}/members`, {
      email: 'nobody@example.com',
      role: 'editor',
    });
    expect(missing.statusCode).toBe(404);
    expect(errorCode(missing)).toBe('USER_NOT_FOUND');

    const promote = await call(server.app, owner, 'PUT', `/api/workspaces/${ws}/members/${member.id}`, { role: 'owner' });
    expect(promote.json()).toMatchObject({ userId: member.id, role: 'owner' });
    // Two owners: one may now step down.
    const demote = await call(server.app, member, 'PUT', `/api/workspaces/${ws}/members/${owner.id}`, { role: 'editor' });
    expect(demote.statusCode).toBe(200);
    const lastDemote = await call(server.app, member, 'PUT', `/api/workspaces/${ws}/members/${member.id}`, { role: 'admin' });
    expect(lastDemote.statusCode).toBe(409);
    expect(errorCode(lastDemote)).toBe('LAST_OWNER');
    const lastLeave = await call(server.app, member, 'DELETE', `/api/workspaces/${ws}/members/${member.id}`);
    expect(lastLeave.statusCode).toBe(409);
    const leave = await call(server.app, owner, 'DELETE', `/api/workspaces/${ws}/members/${owner.id}`);
    expect(leave.statusCode).toBe(200);
    expect((await call(server.app, owner, 'GET', `/api/workspaces/${ws}`)).statusCode).toBe(404);
    const members = (await call(server.app, member, 'GET', `/api/workspaces/${ws}/members`)).json().members;
    expect(members.map((m: { email: string; role: string }) => [m.email, m.role])).toEqual([[member.email, 'owner']]);
  });

  it('deletes a workspace with its experiments and their metrics', async () => {
    const owner = await signUp(server.app);
    const ws = await createWorkspace(server.app, owner);
    const id = await createExperiment(server.app, owner, { workspaceId: ws });
    await call(server.app, owner, 'POST', `/api/experiments/${id}/metrics/batch`, { series: { loss: { values: [1, 2, 3] } } });
    const seriesIds = (
      await server.database.db.selectFrom('metric_series').select('id').where('experiment_id', '=', id).execute()
    ).map((r) => r.id);
    expect(seriesIds).toHaveLength(1);
    expect((await call(server.app, owner, 'DELETE', `/api/workspaces/${ws}`)).statusCode).toBe(200);
    expect((await call(server.app, owner, 'GET', `/api/experiments/${id}`)).statusCode).toBe(404);
    const blocks = await server.database.db
      .selectFrom('metric_blocks')
      .select('seq')
      .where('series_id', 'in', seriesIds)
      .execute();
    const series = await server.database.db.selectFrom('metric_series').select('id').where('experiment_id', '=', id).execute();
    expect(series).toEqual([]);
    expect(blocks).toEqual([]);
  });

  it('sets, walks (oldest first) and clears references; refuses self and cycles with 409', async () => {
    const user = await signUp(server.app);
    const a = await createExperiment(server.app, user, { name: 'a' });
    const b = await createExperiment(server.app, user, { name: 'b' });
    const c = await createExperiment(server.app, user, { name: 'c' });
    expect((await call(server.app, user, 'POST', `/api/experiments/${b}/ref`, { referenceId: a })).statusCode).toBe(200);
    const set = await call(server.app, user, 'POST', `/api/experiments/${c}/ref`, { referenceId: b });
    expect(set.json()).toMatchObject({ referenceId: b });
    const chain = (await call(server.app, user, 'GET', `/api/experiments/${c}/ref`)).json();
    expect(chain.chain.map((l: { name: string }) => l.name)).toEqual(['a', 'b']);
    expect((await call(server.app, user, 'GET', `/api/experiments/${c}`)).json().referenceId).toBe(b);

    const self = await call(server.app, user, 'POST', `/api/experiments/${a}/ref`, { referenceId: a });
    expect(self.statusCode).toBe(409);
    const cycle = await call(server.app, user, 'POST', `/api/experiments/${a}/ref`, { referenceId: c });
    expect(cycle.statusCode).toBe(409);
    expect(errorCode(cycle)).toBe('REFERENCE_CYCLE');

    const wrong = await call(server.app, user, 'DELETE', `/api/experiments/${c}/ref/${a}`);
    expect(wrong.statusCode).toBe(404);
    expect((await call(server.app, user, 'DELETE', `/api/experiments/${c}/ref/${b}`)).statusCode).toBe(200);
    expect((await call(server.app, user, 'GET', `/api/experiments/${c}/ref`)).json()).toEqual({ referenceId: null, chain: [] });
  });

  it('refuses a reference the caller cannot read, without revealing it', async () => {
    const user = await signUp(server.app);
    const stranger = await signUp(server.app);
    const mine = await createExperiment(server.app, user);
    const theirs = await createExperiment(server.app, stranger);
    const res = await call(server.app, user, 'POST', `/api/experiments/${mine}/ref`, { referenceId: theirs });
    expect(res.statusCode).toBe(404);
    expect(errorCode(res)).toBe('REFERENCE_NOT_FOUND');
  });
});
