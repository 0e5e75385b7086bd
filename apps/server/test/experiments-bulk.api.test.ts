import { describe, expect, it } from 'vitest';
import {
  DIALECTS,
  addMember,
  call,
  createExperiment,
  createWorkspace,
  errorCode,
  useTestServer,
  useUser,
  type TestUser,
} from './harness.js';

describe.each(DIALECTS)('bulk experiment actions on %s', (dialect) => {
  const server = useTestServer(dialect);
  const alice = useUser(server);
  const viewer = useUser(server);
  const stranger = useUser(server);

  const tagsOf = async (id: string) =>
    (await call(server.app, alice, 'GET', `/api/experiments/${id}`)).json<{ tags: string[] }>().tags;
  const bulk = (user: TestUser, body: unknown) => call(server.app, user, 'POST', '/api/experiments/bulk', body);

  it('tags, untags and deletes many experiments at once', async () => {
    const ws = await createWorkspace(server.app, alice, 'bulk');
    const a = await createExperiment(server.app, alice, { workspaceId: ws, tags: ['keep'] });
    const b = await createExperiment(server.app, alice, { workspaceId: ws, tags: ['keep', 'old'] });
    const c = await createExperiment(server.app, alice, { workspaceId: ws });

    const tag = await bulk(alice, { ids: [a, b], action: 'tag', tags: ['ablation', 'keep'] });
    expect(tag.statusCode).toBe(200);
    expect(tag.json()).toEqual({ success: true, action: 'tag', count: 2 });
    expect(await tagsOf(a)).toEqual(['keep', 'ablation']);
    expect(await tagsOf(b)).toEqual(['keep', 'old', 'ablation']);
    // The tag filter of the list sees the new tags (the tag table follows).
    const listed = (await call(server.app, alice, 'GET', `/api/experiments?workspace=${ws}&tags=ablation`)).json<{
      total: number;
    }>();
    expect(listed.total).toBe(2);

    const untag = await bulk(alice, { ids: [a, b, c], action: 'untag', tags: ['old', 'keep'] });
    expect(untag.json()).toEqual({ success: true, action: 'untag', count: 3 });
    expect(await tagsOf(a)).toEqual(['ablation']);
    expect(await tagsOf(b)).toEqual(['ablation']);
    expect(await tagsOf(c)).toEqual([]);

    const del = await bulk(alice, { ids: [a, c], action: 'delete' });
    expect(del.json()).toEqual({ success: true, action: 'delete', count: 2 });
    expect((await call(server.app, alice, 'GET', `/api/experiments/${a}`)).statusCode).toBe(404);
    expect((await call(server.app, alice, 'GET', `/api/experiments/${c}`)).statusCode).toBe(404);
    expect((await call(server.app, alice, 'GET', `/api/experiments/${b}`)).statusCode).toBe(200);
  });

  it('changes nothing when any id is refused: a viewer gets 403, an unreadable id 404', async () => {
    const ws = await createWorkspace(server.app, alice, 'guarded');
    await addMember(server.app, alice, ws, viewer, 'viewer');
    const a = await createExperiment(server.app, alice, { workspaceId: ws, tags: ['t'] });
    const b = await createExperiment(server.app, alice, { workspaceId: ws });
    const theirs = await createExperiment(server.app, stranger, {});

    const asViewer = await bulk(viewer, { ids: [a, b], action: 'delete' });
    expect(asViewer.statusCode).toBe(403);
    expect(errorCode(asViewer)).toBe('FORBIDDEN');

    const mixed = await bulk(alice, { ids: [a, theirs], action: 'delete' });
    expect(mixed.statusCode).toBe(404);
    expect(errorCode(mixed)).toBe('EXPERIMENT_NOT_FOUND');
    const mixedTag = await bulk(alice, { ids: [b, theirs], action: 'tag', tags: ['x'] });
    expect(mixedTag.statusCode).toBe(404);

    expect((await call(server.app, alice, 'GET', `/api/experiments/${a}`)).statusCode).toBe(200);
    expect(await tagsOf(b)).toEqual([]);
    expect((await call(server.app, stranger, 'GET', `/api/experiments/${theirs}`)).statusCode).toBe(200);
  });

  it('refuses malformed requests with a 400 in the one error shape', async () => {
    const a = await createExperiment(server.app, alice, {});
    for (const body of [
      { ids: [a], action: 'tag' },
      { ids: [a], action: 'untag', tags: ['  '] },
      { ids: [], action: 'delete' },
      { ids: ['not-a-uuid'], action: 'delete' },
      { ids: [a, a], action: 'delete' },
      { ids: [a], action: 'archive' },
      { ids: [a], action: 'delete', extra: true },
    ]) {
      const res = await bulk(alice, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(errorCode(res)).toBe('VALIDATION_ERROR');
    }
    expect((await call(server.app, alice, 'GET', `/api/experiments/${a}`)).statusCode).toBe(200);
  });

  it('a tag that would take an experiment past 100 tags changes none of them', async () => {
    const full = await createExperiment(server.app, alice, { tags: Array.from({ length: 100 }, (_, i) => `t${i}`) });
    const other = await createExperiment(server.app, alice, {});
    const res = await bulk(alice, { ids: [other, full], action: 'tag', tags: ['one-more'] });
    expect(res.statusCode).toBe(400);
    expect(await tagsOf(other)).toEqual([]);
    expect(await tagsOf(full)).toHaveLength(100);
  });
});
