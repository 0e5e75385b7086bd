import { randomBytes, randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DIALECTS,
  ORIGIN,
  addMember,
  call,
  createExperiment,
  createWorkspace,
  errorCode,
  signUp,
  startTestServer,
  type TestServer,
  type TestUser,
} from './harness.js';

/**
 * The authorization table: every route × every kind of caller, with the exact status (and error
 * code) expected. Rows that write get a fresh workspace so no row depends on another; after every
 * refused request the database is compared with a snapshot taken just before it.
 */

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
type Expect = number | readonly [number, string];

const ACTORS = [
  'anonymous',
  'unknown key',
  'revoked key',
  'other user',
  'viewer',
  'editor',
  'admin',
  'owner',
  'owner (Bearer)',
  'owner (cookie + Origin)',
  'owner (cookie, no Origin)',
  'owner (cookie, foreign Origin)',
  'owner (cookie, https Origin on http)',
  'owner (read-only key)',
  'expired key',
] as const;
type Actor = (typeof ACTORS)[number];
type MemberActor = 'other user' | 'viewer' | 'editor' | 'admin' | 'owner';

const PASSWORD = 'correct horse battery';
const FOREIGN_ORIGIN = 'http://evil.example';

interface Users {
  owner: TestUser;
  viewer: TestUser;
  editor: TestUser;
  admin: TestUser;
  other: TestUser;
  /** A plain viewer of each fixture workspace, the object of member changes. */
  target: TestUser;
  /** Signed up but in no fixture workspace: the one added by POST …/members. */
  newcomer: TestUser;
  /** The owner's second key, revoked. */
  revokedKey: string;
  /** The owner's read-only key, and one past its expiry. */
  readOnlyKey: string;
  expiredKey: string;
}

interface Fixture {
  ws: string;
  /** Experiment with a `loss` series and `ref` as its reference. */
  exp: string;
  ref: string;
  /** Another experiment of the workspace, to become a new reference. */
  spare: string;
  /** A live key of the owner, for DELETE /api/keys/{id}. */
  ownerKeyId: string;
}

interface Row {
  method: Method;
  /** Path as shown in the test name. */
  route: string;
  url: (f: Fixture, self: TestUser | null) => string;
  body?: (f: Fixture) => unknown;
  /** Writes get a fresh fixture per actor. */
  fresh?: boolean;
  /** Public routes: the same status for every caller that is not refused for a bad key or CSRF. */
  everyone?: Expect;
  /** Authenticated routes: the status per member role ("other user" is a member of nothing). */
  roles?: Record<MemberActor, Expect>;
  /** Extra checks after a 2xx. */
  ok?: (res: LightMyRequestResponse, f: Fixture, actor: Actor) => Promise<void> | void;
}

const EXP_404 = [404, 'EXPERIMENT_NOT_FOUND'] as const;
const WS_404 = [404, 'WORKSPACE_NOT_FOUND'] as const;
const FORBIDDEN = [403, 'FORBIDDEN'] as const;
const LAST_OWNER = [409, 'LAST_OWNER'] as const;

const read = (notFound: Expect): Record<MemberActor, Expect> => ({
  'other user': notFound,
  viewer: 200,
  editor: 200,
  admin: 200,
  owner: 200,
});
const experimentWrite = (ok: number): Record<MemberActor, Expect> => ({
  'other user': EXP_404,
  viewer: FORBIDDEN,
  editor: ok,
  admin: ok,
  owner: ok,
});
const everyUser = (status: number): Record<MemberActor, Expect> => ({
  'other user': status,
  viewer: status,
  editor: status,
  admin: status,
  owner: status,
});

function rows(u: () => Users): Row[] {
  return [
    // Public routes.
    { method: 'GET', route: '/api/health', url: () => '/api/health', everyone: 200 },
    { method: 'GET', route: '/api/auth/setup', url: () => '/api/auth/setup', everyone: 200 },
    { method: 'GET', route: '/api/openapi.json', url: () => '/api/openapi.json', everyone: 200 },
    // The Python client wheel (not built for this in-process server: 404 for everyone alike).
    { method: 'GET', route: '/api/client', url: () => '/api/client', everyone: 404 },
    { method: 'GET', route: '/api/client/{file}', url: () => '/api/client/x.whl', everyone: 404 },
    {
      method: 'POST',
      route: '/api/auth/signup',
      url: () => '/api/auth/signup',
      body: () => ({ email: `new-${randomUUID()}@example.com`, password: PASSWORD }),
      everyone: 201,
    },
    {
      method: 'POST',
      route: '/api/auth/login',
      url: () => '/api/auth/login',
      body: () => ({ email: u().owner.email, password: PASSWORD }),
      everyone: 200,
    },
    { method: 'POST', route: '/api/auth/logout', url: () => '/api/auth/logout', everyone: 200 },

    // Account.
    { method: 'GET', route: '/api/auth/me', url: () => '/api/auth/me', roles: everyUser(200) },
    { method: 'GET', route: '/api/keys', url: () => '/api/keys', roles: everyUser(200) },
    { method: 'POST', route: '/api/keys', url: () => '/api/keys', body: () => ({ name: 'new key' }), roles: everyUser(201) },
    {
      method: 'DELETE',
      route: '/api/keys/{owner key}',
      url: (f) => `/api/keys/${f.ownerKeyId}`,
      fresh: true,
      roles: {
        'other user': [404, 'KEY_NOT_FOUND'],
        viewer: [404, 'KEY_NOT_FOUND'],
        editor: [404, 'KEY_NOT_FOUND'],
        admin: [404, 'KEY_NOT_FOUND'],
        owner: 200,
      },
    },

    // Workspaces.
    {
      method: 'POST',
      route: '/api/workspaces',
      url: () => '/api/workspaces',
      body: () => ({ name: 'mine' }),
      roles: everyUser(201),
      ok: (res) => expect(res.json()).toMatchObject({ name: 'mine', role: 'owner' }),
    },
    {
      method: 'GET',
      route: '/api/workspaces',
      url: () => '/api/workspaces',
      roles: everyUser(200),
      ok: (res, f, actor) => {
        const ids = res.json<{ workspaces: { id: string }[] }>().workspaces.map((w) => w.id);
        if (actor === 'other user') expect(ids).not.toContain(f.ws);
        else expect(ids).toContain(f.ws);
      },
    },
    { method: 'GET', route: '/api/workspaces/{id}', url: (f) => `/api/workspaces/${f.ws}`, roles: read(WS_404) },
    {
      method: 'PUT',
      route: '/api/workspaces/{id}',
      url: (f) => `/api/workspaces/${f.ws}`,
      body: () => ({ name: 'renamed' }),
      fresh: true,
      roles: { 'other user': WS_404, viewer: FORBIDDEN, editor: FORBIDDEN, admin: FORBIDDEN, owner: 200 },
      ok: (res) => expect(res.json()).toMatchObject({ name: 'renamed' }),
    },
    {
      method: 'DELETE',
      route: '/api/workspaces/{id}',
      url: (f) => `/api/workspaces/${f.ws}`,
      fresh: true,
      roles: { 'other user': WS_404, viewer: FORBIDDEN, editor: FORBIDDEN, admin: FORBIDDEN, owner: 200 },
    },
    { method: 'GET', route: '/api/workspaces/{id}/members', url: (f) => `/api/workspaces/${f.ws}/members`, roles: read(WS_404) },
    {
      method: 'POST',
      route: '/api/workspaces/{id}/invites',
      url: (f) => `/api/workspaces/${f.ws}/invites`,
      body: () => ({ role: 'viewer' }),
      fresh: true,
      roles: { 'other user': WS_404, viewer: FORBIDDEN, editor: FORBIDDEN, admin: 201, owner: 201 },
    },
    {
      method: 'GET',
      route: '/api/workspaces/{id}/invites',
      url: (f) => `/api/workspaces/${f.ws}/invites`,
      roles: { 'other user': WS_404, viewer: FORBIDDEN, editor: FORBIDDEN, admin: 200, owner: 200 },
    },
    {
      method: 'GET',
      route: '/api/auth/invites/{token}',
      url: () => '/api/auth/invites/not-a-token',
      everyone: [404, 'INVITE_NOT_FOUND'],
    },
    {
      method: 'POST',
      route: '/api/workspaces/{id}/members (as editor)',
      url: (f) => `/api/workspaces/${f.ws}/members`,
      body: () => ({ email: u().newcomer.email, role: 'editor' }),
      fresh: true,
      roles: { 'other user': WS_404, viewer: FORBIDDEN, editor: FORBIDDEN, admin: 201, owner: 201 },
    },
    {
      method: 'POST',
      route: '/api/workspaces/{id}/members (as owner)',
      url: (f) => `/api/workspaces/${f.ws}/members`,
      body: () => ({ email: u().newcomer.email, role: 'owner' }),
      fresh: true,
      roles: { 'other user': WS_404, viewer: FORBIDDEN, editor: FORBIDDEN, admin: FORBIDDEN, owner: 201 },
    },
    {
      method: 'PUT',
      route: '/api/workspaces/{id}/members/{viewer} → editor',
      url: (f) => `/api/workspaces/${f.ws}/members/${u().target.id}`,
      body: () => ({ role: 'editor' }),
      fresh: true,
      roles: { 'other user': WS_404, viewer: FORBIDDEN, editor: FORBIDDEN, admin: 200, owner: 200 },
      ok: (res) => expect(res.json()).toMatchObject({ userId: u().target.id, role: 'editor' }),
    },
    {
      method: 'PUT',
      route: '/api/workspaces/{id}/members/{viewer} → owner',
      url: (f) => `/api/workspaces/${f.ws}/members/${u().target.id}`,
      body: () => ({ role: 'owner' }),
      fresh: true,
      roles: { 'other user': WS_404, viewer: FORBIDDEN, editor: FORBIDDEN, admin: FORBIDDEN, owner: 200 },
    },
    {
      method: 'PUT',
      route: '/api/workspaces/{id}/members/{last owner} → admin',
      url: (f) => `/api/workspaces/${f.ws}/members/${u().owner.id}`,
      body: () => ({ role: 'admin' }),
      fresh: true,
      roles: { 'other user': WS_404, viewer: FORBIDDEN, editor: FORBIDDEN, admin: FORBIDDEN, owner: LAST_OWNER },
    },
    {
      method: 'PUT',
      route: '/api/workspaces/{id}/members/{non-member}',
      url: (f) => `/api/workspaces/${f.ws}/members/${u().newcomer.id}`,
      body: () => ({ role: 'viewer' }),
      fresh: true,
      roles: {
        'other user': WS_404,
        viewer: FORBIDDEN,
        editor: FORBIDDEN,
        admin: [404, 'MEMBER_NOT_FOUND'],
        owner: [404, 'MEMBER_NOT_FOUND'],
      },
    },
    {
      method: 'DELETE',
      route: '/api/workspaces/{id}/members/{viewer}',
      url: (f) => `/api/workspaces/${f.ws}/members/${u().target.id}`,
      fresh: true,
      roles: { 'other user': WS_404, viewer: FORBIDDEN, editor: FORBIDDEN, admin: 200, owner: 200 },
    },
    {
      method: 'DELETE',
      route: '/api/workspaces/{id}/members/{last owner}',
      url: (f) => `/api/workspaces/${f.ws}/members/${u().owner.id}`,
      fresh: true,
      roles: { 'other user': WS_404, viewer: FORBIDDEN, editor: FORBIDDEN, admin: FORBIDDEN, owner: LAST_OWNER },
    },
    {
      method: 'DELETE',
      route: '/api/workspaces/{id}/members/{self} (leave)',
      url: (f, self) => `/api/workspaces/${f.ws}/members/${(self ?? u().owner).id}`,
      fresh: true,
      roles: { 'other user': WS_404, viewer: 200, editor: 200, admin: 200, owner: LAST_OWNER },
    },

    // Experiments.
    {
      method: 'POST',
      route: '/api/experiments',
      url: () => '/api/experiments',
      body: (f) => ({ name: 'created', workspaceId: f.ws }),
      fresh: true,
      roles: { 'other user': WS_404, viewer: FORBIDDEN, editor: 201, admin: 201, owner: 201 },
    },
    {
      method: 'GET',
      route: '/api/experiments',
      // Oldest first: the shared fixture's experiments come before those of the fresh fixtures.
      url: () => '/api/experiments?sort=created&order=asc&limit=500',
      roles: everyUser(200),
      ok: (res, f, actor) => {
        const ids = res.json<{ experiments: { id: string }[] }>().experiments.map((e) => e.id);
        if (actor === 'other user') expect(ids).not.toContain(f.exp);
        else expect(ids).toContain(f.exp);
      },
    },
    {
      method: 'GET',
      route: '/api/experiments?workspace={id}',
      url: (f) => `/api/experiments?workspace=${f.ws}`,
      roles: read(WS_404),
    },
    {
      method: 'GET',
      route: '/api/experiments/{id}',
      url: (f) => `/api/experiments/${f.exp}`,
      roles: read(EXP_404),
      ok: (res, f) => expect(res.json()).toMatchObject({ id: f.exp, name: 'subject', availableMetrics: ['loss'] }),
    },
    {
      method: 'PUT',
      route: '/api/experiments/{id}',
      url: (f) => `/api/experiments/${f.exp}`,
      body: () => ({ name: 'renamed', status: 'finished' }),
      fresh: true,
      roles: experimentWrite(200),
      ok: (res) => expect(res.json()).toMatchObject({ name: 'renamed', status: 'finished' }),
    },
    {
      method: 'POST',
      route: '/api/experiments/{id} (update)',
      url: (f) => `/api/experiments/${f.exp}`,
      body: () => ({ description: 'changed' }),
      fresh: true,
      roles: experimentWrite(200),
      ok: (res) => expect(res.json()).toMatchObject({ description: 'changed' }),
    },
    {
      method: 'DELETE',
      route: '/api/experiments/{id}',
      url: (f) => `/api/experiments/${f.exp}`,
      fresh: true,
      roles: experimentWrite(200),
    },
    {
      method: 'POST',
      route: '/api/experiments/bulk',
      url: () => '/api/experiments/bulk',
      body: (f) => ({ ids: [f.exp], action: 'tag', tags: ['bulk'] }),
      fresh: true,
      roles: experimentWrite(200),
      ok: (res) => expect(res.json()).toEqual({ success: true, action: 'tag', count: 1 }),
    },
    {
      method: 'GET',
      route: '/api/experiments/{id}/kv-tags',
      url: (f) => `/api/experiments/${f.exp}/kv-tags`,
      roles: read(EXP_404),
    },
    {
      method: 'PUT',
      route: '/api/experiments/{id}/kv-tags/{key}',
      url: (f) => `/api/experiments/${f.exp}/kv-tags/stage`,
      body: () => ({ value: 'final' }),
      fresh: true,
      roles: experimentWrite(200),
    },
    {
      method: 'GET',
      route: '/api/experiments/{id}/ref',
      url: (f) => `/api/experiments/${f.exp}/ref`,
      roles: read(EXP_404),
      ok: (res, f) => expect(res.json()).toMatchObject({ referenceId: f.ref }),
    },
    {
      method: 'POST',
      route: '/api/experiments/{id}/ref',
      url: (f) => `/api/experiments/${f.exp}/ref`,
      body: (f) => ({ referenceId: f.spare }),
      fresh: true,
      roles: experimentWrite(200),
      ok: (res, f) => expect(res.json()).toMatchObject({ referenceId: f.spare }),
    },
    {
      method: 'DELETE',
      route: '/api/experiments/{id}/ref/{refId}',
      url: (f) => `/api/experiments/${f.exp}/ref/${f.ref}`,
      fresh: true,
      roles: experimentWrite(200),
    },

    // Metrics.
    {
      method: 'POST',
      route: '/api/experiments/{id}/metrics/batch',
      url: (f) => `/api/experiments/${f.exp}/metrics/batch`,
      body: () => [{ name: 'loss', value: 0.25, step: null, metadata: null }],
      fresh: true,
      roles: experimentWrite(201),
    },
    {
      method: 'GET',
      route: '/api/experiments/{id}/metrics',
      url: (f) => `/api/experiments/${f.exp}/metrics`,
      roles: read(EXP_404),
    },
    {
      method: 'GET',
      route: '/api/experiments/{id}/metrics/series',
      url: (f) => `/api/experiments/${f.exp}/metrics/series?name=loss&budget=10`,
      roles: read(EXP_404),
    },
    {
      method: 'GET',
      route: '/api/experiments/{id}/metrics/raw',
      url: (f) => `/api/experiments/${f.exp}/metrics/raw?name=loss`,
      roles: read(EXP_404),
    },
    {
      method: 'GET',
      route: '/api/experiments/{id}/metrics/csv',
      url: (f) => `/api/experiments/${f.exp}/metrics/csv`,
      roles: read(EXP_404),
    },
  ];
}

const ROUTES_FOR_NAMES = rows(() => {
  throw new Error('only for test names');
});

/** What the table says for one (row, actor). */
function expected(row: Row, actor: Actor): Expect {
  if (actor === 'unknown key' || actor === 'revoked key' || actor === 'expired key') return [401, 'INVALID_API_KEY'];
  if (actor === 'owner (read-only key)' && row.method !== 'GET') return [403, 'FORBIDDEN'];
  const badOrigin = ['owner (cookie, no Origin)', 'owner (cookie, foreign Origin)', 'owner (cookie, https Origin on http)'];
  if (badOrigin.includes(actor) && row.method !== 'GET') {
    return [403, 'CSRF_REJECTED'];
  }
  if (row.everyone !== undefined) return row.everyone;
  if (actor === 'anonymous') return [401, 'UNAUTHORIZED'];
  const roles = row.roles;
  if (!roles) throw new Error(`row ${row.route} has no expectations`);
  if (actor.startsWith('owner')) return roles.owner;
  return roles[actor as MemberActor];
}

describe.each(DIALECTS)('authorization on %s', (dialect) => {
  let server: TestServer;
  let users: Users;
  let shared: Fixture;

  const app = () => server.app;

  async function buildFixture(): Promise<Fixture> {
    const { owner, viewer, editor, admin, target } = users;
    const ws = await createWorkspace(app(), owner, 'authz');
    await addMember(app(), owner, ws, viewer, 'viewer');
    await addMember(app(), owner, ws, editor, 'editor');
    await addMember(app(), owner, ws, admin, 'admin');
    await addMember(app(), owner, ws, target, 'viewer');
    const ref = await createExperiment(app(), owner, { name: 'baseline', workspaceId: ws });
    const spare = await createExperiment(app(), owner, { name: 'spare', workspaceId: ws });
    const exp = await createExperiment(app(), owner, { name: 'subject', workspaceId: ws, referenceId: ref });
    const batch = await call(app(), owner, 'POST', `/api/experiments/${exp}/metrics/batch`, [
      { name: 'loss', value: 1, step: 0 },
      { name: 'loss', value: 0.5, step: 1 },
    ]);
    expect(batch.statusCode).toBe(201);
    const key = await call(app(), owner, 'POST', '/api/keys', { name: 'to revoke' });
    expect(key.statusCode).toBe(201);
    return { ws, exp, ref, spare, ownerKeyId: key.json<{ id: string }>().id };
  }

  /** Everything a request about a fixture could change (API-key use times excepted: they are coalesced). */
  async function snapshot(f: Fixture): Promise<unknown> {
    const db = server.database.db;
    const count = async (
      table:
        | 'users'
        | 'sessions'
        | 'api_keys'
        | 'workspaces'
        | 'workspace_members'
        | 'experiments'
        | 'metric_series'
        | 'metric_batches'
        | 'workspace_invites'
        | 'mlflow_run_tags',
    ) =>
      Number(
        (
          await db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const experiments = await db.selectFrom('experiments').selectAll().where('workspace_id', '=', f.ws).orderBy('id').execute();
    const ids = experiments.map((e) => e.id);
    return {
      counts: {
        users: await count('users'),
        sessions: await count('sessions'),
        api_keys: await count('api_keys'),
        workspaces: await count('workspaces'),
        workspace_members: await count('workspace_members'),
        experiments: await count('experiments'),
        metric_series: await count('metric_series'),
        metric_batches: await count('metric_batches'),
        workspace_invites: await count('workspace_invites'),
        mlflow_run_tags: await count('mlflow_run_tags'),
      },
      workspace: await db.selectFrom('workspaces').selectAll().where('id', '=', f.ws).executeTakeFirst(),
      members: await db
        .selectFrom('workspace_members')
        .select(['user_id', 'role'])
        .where('workspace_id', '=', f.ws)
        .orderBy('user_id')
        .execute(),
      experiments,
      series:
        ids.length === 0
          ? []
          : await db
              .selectFrom('metric_series')
              .select(['experiment_id', 'name', 'point_count', 'last_step', 'last_value'])
              .where('experiment_id', 'in', ids)
              .orderBy('experiment_id')
              .orderBy('name')
              .execute(),
      keys: await db
        .selectFrom('api_keys')
        .select(['id', 'revoked_at'])
        .where('user_id', '=', users.owner.id)
        .orderBy('id')
        .execute(),
    };
  }

  async function sessionCookie(): Promise<string> {
    const res = await app().inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { origin: ORIGIN },
      payload: { email: users.owner.email, password: PASSWORD },
    });
    expect(res.statusCode).toBe(200);
    const setCookie = res.headers['set-cookie'];
    const raw = Array.isArray(setCookie) ? setCookie[0] : setCookie;
    return (raw ?? '').split(';')[0] ?? '';
  }

  /** Headers and identity of an actor; cookie actors get a session of their own. */
  async function actorHeaders(actor: Actor): Promise<{ headers: Record<string, string>; self: TestUser | null }> {
    switch (actor) {
      case 'anonymous':
        return { headers: {}, self: null };
      case 'unknown key':
        return { headers: { 'x-api-key': `tora_${randomBytes(32).toString('hex')}` }, self: null };
      case 'revoked key':
        return { headers: { 'x-api-key': users.revokedKey }, self: null };
      case 'expired key':
        return { headers: { 'x-api-key': users.expiredKey }, self: null };
      case 'owner (read-only key)':
        return { headers: { 'x-api-key': users.readOnlyKey }, self: users.owner };
      case 'other user':
        return { headers: { 'x-api-key': users.other.key }, self: users.other };
      case 'viewer':
      case 'editor':
      case 'admin':
      case 'owner':
        return { headers: { 'x-api-key': users[actor].key }, self: users[actor] };
      case 'owner (Bearer)':
        return { headers: { authorization: `Bearer ${users.owner.key}` }, self: users.owner };
      case 'owner (cookie + Origin)':
        return { headers: { cookie: await sessionCookie(), origin: ORIGIN }, self: users.owner };
      case 'owner (cookie, no Origin)':
        return { headers: { cookie: await sessionCookie() }, self: users.owner };
      case 'owner (cookie, foreign Origin)':
        return { headers: { cookie: await sessionCookie(), origin: FOREIGN_ORIGIN }, self: users.owner };
      case 'owner (cookie, https Origin on http)':
        // Same host, other scheme: an https page may not write to the plain-http server.
        return { headers: { cookie: await sessionCookie(), host: 'localhost', origin: 'https://localhost' }, self: users.owner };
    }
  }

  beforeAll(async () => {
    server = await startTestServer(dialect);
    const owner = await signUp(server.app);
    const [viewer, editor, admin, other, target, newcomer] = [
      await signUp(server.app),
      await signUp(server.app),
      await signUp(server.app),
      await signUp(server.app),
      await signUp(server.app),
      await signUp(server.app),
    ];
    const second = await call(server.app, owner, 'POST', '/api/keys', { name: 'revoked' });
    expect(second.statusCode).toBe(201);
    const revokedKey = second.json<{ key: string; id: string }>();
    const revoke = await call(server.app, owner, 'DELETE', `/api/keys/${revokedKey.id}`);
    expect(revoke.statusCode).toBe(200);
    const readOnly = await call(server.app, owner, 'POST', '/api/keys', { name: 'read only', scope: 'read' });
    expect(readOnly.statusCode).toBe(201);
    const expiring = await call(server.app, owner, 'POST', '/api/keys', { name: 'expiring', expiresInDays: 1 });
    expect(expiring.statusCode).toBe(201);
    const expired = expiring.json<{ key: string; id: string }>();
    // A day later (the clock is real: move the expiry instead).
    await server.database.db
      .updateTable('api_keys')
      .set({ expires_at: Date.now() - 1 })
      .where('id', '=', expired.id)
      .execute();
    users = {
      owner,
      viewer,
      editor,
      admin,
      other,
      target,
      newcomer,
      revokedKey: revokedKey.key,
      readOnlyKey: readOnly.json<{ key: string }>().key,
      expiredKey: expired.key,
    };
    shared = await buildFixture();
  });
  afterAll(() => server.close());

  const table = rows(() => users);
  const cases = ROUTES_FOR_NAMES.flatMap((r, i) =>
    ACTORS.map((actor) => ({ name: `${r.method} ${r.route} as ${actor}`, index: i, actor })),
  );

  it.each(cases)('$name', async ({ index, actor }) => {
    const row = table[index]!;
    const want = expected(row, actor);
    const [status, code] = typeof want === 'number' ? [want, undefined] : want;
    const f = row.fresh ? await buildFixture() : shared;
    const { headers, self } = await actorHeaders(actor);
    const body = row.body?.(f);
    const before = await snapshot(f);

    const res = await app().inject({
      method: row.method,
      url: row.url(f, self),
      headers,
      ...(body === undefined ? {} : { payload: body as object }),
    });

    expect(res.statusCode, res.body).toBe(status);
    if (status >= 400) {
      const got = errorCode(res);
      if (code !== undefined) expect(got).toBe(code);
      // A refused request changes nothing, and never returns the data.
      expect(await snapshot(f)).toEqual(before);
      expect(res.body).not.toContain('subject');
    } else {
      await row.ok?.(res, f, actor);
    }
  });

  it('a viewer PUT leaves the experiment exactly as it was', async () => {
    const f = await buildFixture();
    const before = (await call(app(), users.owner, 'GET', `/api/experiments/${f.exp}`)).json();
    const put = await call(app(), users.viewer, 'PUT', `/api/experiments/${f.exp}`, {
      name: 'hijacked',
      tags: ['x'],
      status: 'failed',
    });
    expect(put.statusCode).toBe(403);
    expect(errorCode(put)).toBe('FORBIDDEN');
    const post = await call(app(), users.other, 'POST', `/api/experiments/${f.exp}`, { name: 'hijacked' });
    expect(post.statusCode).toBe(404);
    expect(errorCode(post)).toBe('EXPERIMENT_NOT_FOUND');
    const after = (await call(app(), users.owner, 'GET', `/api/experiments/${f.exp}`)).json();
    expect(after).toEqual(before);
    expect(after.name).toBe('subject');
  });

  it('a refused metrics batch writes no point', async () => {
    const f = await buildFixture();
    for (const user of [users.viewer, users.other]) {
      const res = await call(app(), user, 'POST', `/api/experiments/${f.exp}/metrics/batch`, {
        batchId: `refused-${user.id}`,
        series: { loss: { values: [9, 9, 9] }, injected: { values: [1] } },
      });
      expect(res.statusCode).toBeGreaterThanOrEqual(403);
    }
    const metrics = (await call(app(), users.owner, 'GET', `/api/experiments/${f.exp}/metrics`)).json();
    expect(metrics.metrics).toEqual([expect.objectContaining({ name: 'loss', count: 2, lastStep: 1, lastValue: 0.5 })]);
    // The refused batchIds were not claimed: the owner may use them.
    const retry = await call(app(), users.owner, 'POST', `/api/experiments/${f.exp}/metrics/batch`, {
      batchId: `refused-${users.viewer.id}`,
      series: { loss: { values: [0.1] } },
    });
    expect(retry.json()).toMatchObject({ count: 1, duplicate: false });
  });

  it('revoking a key takes effect on the very next request', async () => {
    const created = (await call(app(), users.editor, 'POST', '/api/keys', { name: 'short-lived' })).json<{
      id: string;
      key: string;
    }>();
    const key = { key: created.key };
    expect((await call(app(), key, 'GET', '/api/auth/me')).statusCode).toBe(200);
    expect((await call(app(), key, 'DELETE', `/api/keys/${created.id}`)).statusCode).toBe(200);
    for (const [method, url] of [
      ['GET', '/api/auth/me'],
      ['GET', '/api/keys'],
      ['GET', '/api/health'],
      ['POST', '/api/experiments'],
    ] as const) {
      const res = await call(app(), key, method, url, method === 'POST' ? { name: 'x' } : undefined);
      expect(res.statusCode, `${method} ${url}`).toBe(401);
      expect(errorCode(res)).toBe('INVALID_API_KEY');
    }
    const bearer = await app().inject({
      method: 'GET',
      url: '/api/auth/me',
      headers: { authorization: `Bearer ${created.key}` },
    });
    expect(bearer.statusCode).toBe(401);
    expect(errorCode(bearer)).toBe('INVALID_API_KEY');
    // A bad key is refused even when a valid session cookie comes along: never silently someone else.
    const withCookie = await app().inject({
      method: 'GET',
      url: '/api/auth/me',
      headers: { 'x-api-key': created.key, cookie: users.editor.cookie },
    });
    expect(withCookie.statusCode).toBe(401);
    const listed = (await call(app(), users.editor, 'GET', '/api/keys')).json<{ keys: { id: string; revoked: boolean }[] }>();
    expect(listed.keys.find((k) => k.id === created.id)?.revoked).toBe(true);
  });

  it('cookie writes need our own Origin (or Referer); a logged-out cookie is anonymous', async () => {
    const cookie = await sessionCookie();
    const count = async () =>
      Number(
        (
          await server.database.db
            .selectFrom('experiments')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await count();
    for (const extra of [
      {},
      { origin: 'null' },
      { origin: FOREIGN_ORIGIN },
      { origin: 'http://localhost.evil.example' },
      { origin: 'http://localhost:8081' },
      { origin: 'https://localhost' },
      { host: 'localhost', origin: 'https://localhost' },
      { host: 'localhost:8443', origin: 'https://localhost:8443' },
      { host: 'localhost:8443', origin: 'http://localhost' },
      { referer: `${FOREIGN_ORIGIN}/page` },
      { referer: 'not a url' },
    ]) {
      const res = await app().inject({
        method: 'POST',
        url: '/api/experiments',
        headers: { cookie, ...extra },
        payload: { name: 'csrf' },
      });
      expect(res.statusCode, JSON.stringify(extra)).toBe(403);
      expect(errorCode(res)).toBe('CSRF_REJECTED');
    }
    expect(await count()).toBe(before);
    const viaReferer = await app().inject({
      method: 'POST',
      url: '/api/experiments',
      headers: { cookie, referer: `${ORIGIN}/experiments` },
      payload: { name: 'same site' },
    });
    expect(viaReferer.statusCode).toBe(201);
    const out = await app().inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie, origin: ORIGIN } });
    expect(out.statusCode).toBe(200);
    const after = await app().inject({ method: 'GET', url: '/api/auth/me', headers: { cookie } });
    expect(after.statusCode).toBe(401);
    expect(errorCode(after)).toBe('UNAUTHORIZED');
    const write = await app().inject({
      method: 'POST',
      url: '/api/experiments',
      headers: { cookie, origin: ORIGIN },
      payload: { name: 'x' },
    });
    expect(write.statusCode).toBe(401);
    expect(errorCode(write)).toBe('UNAUTHORIZED');
  });

  it('a removed member loses access at once', async () => {
    const f = await buildFixture();
    expect((await call(app(), users.editor, 'GET', `/api/experiments/${f.exp}`)).statusCode).toBe(200);
    expect((await call(app(), users.owner, 'DELETE', `/api/workspaces/${f.ws}/members/${users.editor.id}`)).statusCode).toBe(200);
    const res = await call(app(), users.editor, 'PUT', `/api/experiments/${f.exp}`, { name: 'late' });
    expect(res.statusCode).toBe(404);
    expect(errorCode(res)).toBe('EXPERIMENT_NOT_FOUND');
    const list = (await call(app(), users.editor, 'GET', '/api/experiments')).json<{ experiments: { id: string }[] }>();
    expect(list.experiments.map((e) => e.id)).not.toContain(f.exp);
  });

  it('the last owner stays: a second owner may leave, then the remaining one may not', async () => {
    const f = await buildFixture();
    // Promote the admin to owner; now the original owner may leave.
    expect(
      (await call(app(), users.owner, 'PUT', `/api/workspaces/${f.ws}/members/${users.admin.id}`, { role: 'owner' })).statusCode,
    ).toBe(200);
    expect((await call(app(), users.owner, 'DELETE', `/api/workspaces/${f.ws}/members/${users.owner.id}`)).statusCode).toBe(200);
    const demote = await call(app(), users.admin, 'PUT', `/api/workspaces/${f.ws}/members/${users.admin.id}`, { role: 'editor' });
    expect(demote.statusCode).toBe(409);
    expect(errorCode(demote)).toBe('LAST_OWNER');
    const leave = await call(app(), users.admin, 'DELETE', `/api/workspaces/${f.ws}/members/${users.admin.id}`);
    expect(leave.statusCode).toBe(409);
    expect(errorCode(leave)).toBe('LAST_OWNER');
    const members = (await call(app(), users.admin, 'GET', `/api/workspaces/${f.ws}/members`)).json<{
      members: { userId: string; role: string }[];
    }>();
    expect(members.members.filter((m) => m.role === 'owner').map((m) => m.userId)).toEqual([users.admin.id]);
    // The former owner is now a stranger.
    const gone = await call(app(), users.owner, 'GET', `/api/workspaces/${f.ws}`);
    expect(gone.statusCode).toBe(404);
    expect(errorCode(gone)).toBe('WORKSPACE_NOT_FOUND');
  });

  it('references never reach into a workspace the caller cannot read', async () => {
    const f = await buildFixture();
    const foreign = await createExperiment(app(), users.other, { name: 'secret baseline' });
    const set = await call(app(), users.editor, 'POST', `/api/experiments/${f.exp}/ref`, { referenceId: foreign });
    expect(set.statusCode).toBe(404);
    expect(errorCode(set)).toBe('REFERENCE_NOT_FOUND');
    const create = await call(app(), users.editor, 'POST', '/api/experiments', {
      name: 'x',
      workspaceId: f.ws,
      referenceId: foreign,
    });
    expect(create.statusCode).toBe(404);
    expect(create.body).not.toContain('secret baseline');
    const ref = (await call(app(), users.editor, 'GET', `/api/experiments/${f.exp}/ref`)).json();
    expect(ref).toMatchObject({ referenceId: f.ref });
    // A chain that passes through the other user's experiment stops before it.
    const theirs = await createExperiment(app(), users.other, { name: 'theirs', referenceId: foreign });
    expect((await call(app(), users.other, 'GET', `/api/experiments/${theirs}/ref`)).json().chain).toHaveLength(1);
    const viewerChain = (await call(app(), users.viewer, 'GET', `/api/experiments/${f.exp}/ref`)).json();
    expect(JSON.stringify(viewerChain)).not.toContain('secret baseline');
  });

  it('a reference into a workspace the reader is not in shows as null, its id nowhere in the answer', async () => {
    const f = await buildFixture();
    // The owner is in both workspaces and may point the shared experiment at a private one.
    const hidden = await createExperiment(app(), users.owner, { name: 'private baseline' });
    const set = await call(app(), users.owner, 'POST', `/api/experiments/${f.exp}/ref`, { referenceId: hidden });
    expect(set.statusCode, set.body).toBe(200);
    expect((await call(app(), users.owner, 'GET', `/api/experiments/${f.exp}`)).json().referenceId).toBe(hidden);
    const reads: [string, (body: Record<string, unknown>) => unknown][] = [
      [`/api/experiments/${f.exp}`, (b) => b.referenceId],
      [`/api/experiments/${f.exp}/ref`, (b) => b.referenceId],
      [
        `/api/experiments?workspace=${f.ws}&limit=100`,
        (b) => (b.experiments as { id: string; referenceId: unknown }[]).find((e) => e.id === f.exp)?.referenceId,
      ],
      [
        `/api/experiments/compare?ids=${f.exp}`,
        (b) => (b.experiments as { id: string; referenceId: unknown }[]).find((e) => e.id === f.exp)?.referenceId,
      ],
    ];
    for (const [url, referenceOf] of reads) {
      const res = await call(app(), users.viewer, 'GET', url);
      expect(res.statusCode, `${url}: ${res.body.slice(0, 200)}`).toBe(200);
      expect(referenceOf(res.json()), url).toBeNull();
      expect(res.body, url).not.toContain(hidden);
    }
  });

  it('moving nothing across workspaces: an editor of one workspace cannot create in another', async () => {
    const mine = await createWorkspace(app(), users.editor, 'editor-own');
    const f = await buildFixture();
    // editor of f.ws, owner of `mine`; the viewer is nobody in `mine`.
    const res = await call(app(), users.viewer, 'POST', '/api/experiments', { name: 'sneak', workspaceId: mine });
    expect(res.statusCode).toBe(404);
    expect(errorCode(res)).toBe('WORKSPACE_NOT_FOUND');
    const list = (await call(app(), users.editor, 'GET', `/api/experiments?workspace=${mine}`)).json<{
      experiments: unknown[];
    }>();
    expect(list.experiments).toEqual([]);
    expect(f.ws).not.toBe(mine);
  });
});
