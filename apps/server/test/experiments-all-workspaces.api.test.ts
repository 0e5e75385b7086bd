import { beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, addMember, call, createExperiment, createWorkspace, signUp, useTestServer, type TestUser } from './harness.js';

type Row = { id: string; name: string; workspaceId: string };
type Page = { experiments: Row[]; nextCursor: string | null; total: number };
type Groups = { groups: { value: unknown; count: number }[]; total: number };

/**
 * The dashboard's "All workspaces": the experiment list without `workspace` covers every workspace
 * the caller is a member of (any role), with filters, sorting, paging and grouping over all of
 * them, and never a row of a workspace the caller does not belong to.
 */
describe.each(DIALECTS)('the experiment list over all readable workspaces on %s', (dialect) => {
  const server = useTestServer(dialect);
  let alice: TestUser;
  let bob: TestUser;
  const mine = new Map<string, string>(); // experiment id → workspace id, of everything alice may read
  const bobsOnly = new Set<string>();

  const list = async (user: TestUser, query: string): Promise<Page> => {
    const res = await call(server.app, user, 'GET', `/api/experiments?${query}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json<Page>();
  };

  // Alice owns two workspaces and views a third; bob has one of his own.
  beforeAll(async () => {
    alice = await signUp(server.app);
    bob = await signUp(server.app);
    const carol = await signUp(server.app);
    const a1 = alice.defaultWorkspaceId;
    const a2 = await createWorkspace(server.app, alice, 'second');
    const shared = await createWorkspace(server.app, carol, 'carol-shared');
    await addMember(server.app, carol, shared, alice, 'viewer');
    const b = bob.defaultWorkspaceId;
    let n = 0;
    for (const [user, ws, group] of [
      [alice, a1, 'sweep'],
      [alice, a1, null],
      [alice, a2, 'sweep'],
      [alice, a2, null],
      [carol, shared, 'sweep'],
      [carol, shared, null],
    ] as const) {
      const id = await createExperiment(server.app, user, { name: `run-${n++}`, workspaceId: ws, group, status: 'finished' });
      mine.set(id, ws);
    }
    for (let i = 0; i < 3; i++) {
      // Bob's runs share the names and group: only membership keeps them out.
      bobsOnly.add(
        await createExperiment(server.app, bob, { name: `run-${i}`, workspaceId: b, group: 'sweep', status: 'finished' }),
      );
    }
  });

  it('lists every readable workspace and nothing else, in one order across pages', async () => {
    const seen: Row[] = [];
    let cursor: string | null = null;
    do {
      const page: Page = await list(alice, `sort=name&order=asc&limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.total).toBe(6);
      seen.push(...page.experiments);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen.map((r) => r.id).sort()).toEqual([...mine.keys()].sort());
    expect(seen.map((r) => r.name)).toEqual(['run-0', 'run-1', 'run-2', 'run-3', 'run-4', 'run-5']);
    for (const r of seen) expect(r.workspaceId).toBe(mine.get(r.id));
    expect(new Set(seen.map((r) => r.workspaceId)).size).toBe(3);

    const bobs = await list(bob, 'limit=100');
    expect(bobs.experiments.map((r) => r.id).sort()).toEqual([...bobsOnly].sort());
  });

  it('filters and groups over all of them, still without foreign rows', async () => {
    const named = await list(alice, 'startwith=run-1&limit=100');
    expect(named.experiments.map((r) => r.name)).toEqual(['run-1']);
    const grouped = await list(alice, 'group=sweep&limit=100');
    expect(grouped.experiments.map((r) => r.id).sort()).toEqual([...mine.keys()].filter((_, i) => i % 2 === 0).sort());
    const filtered = await list(alice, `filter=${encodeURIComponent("attributes.status = 'FINISHED'")}&limit=100`);
    expect(filtered.total).toBe(6);

    const res = await call(server.app, alice, 'GET', '/api/experiments?groupBy=group');
    expect(res.statusCode).toBe(200);
    const groups = res.json<Groups>();
    expect(groups.total).toBe(6);
    expect(groups.groups.map((g) => [g.value, g.count])).toEqual([
      ['sweep', 3],
      [null, 3],
    ]);
  });
});
