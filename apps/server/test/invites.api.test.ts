import { createHash } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { describe, expect, it } from 'vitest';
import { INVITE_LIMITS } from '../src/lib/limits.js';
import { DIALECTS, call, errorCode, signUp, useTestServer, type TestUser } from './harness.js';

type Created = { invite: { id: string; status: string; role: string }; token: string; path: string };
const DAY = 86_400_000;

describe.each(DIALECTS)('invite links with signup closed on %s', (dialect) => {
  let now = Date.UTC(2026, 0, 1);
  const server = useTestServer(dialect, { TORA_ALLOW_SIGNUP: 'false' }, { clock: () => now });
  let owner: TestUser;
  let workspaceId = '';

  const signup = (email: string, invite?: string) =>
    server.app.inject({
      method: 'POST',
      url: '/api/auth/signup',
      payload: { email, password: 'correct horse battery', ...(invite === undefined ? {} : { invite }) },
    });
  const invite = async (by: TestUser | { key: string }, body: Record<string, unknown>, ws = workspaceId) =>
    call(server.app, by, 'POST', `/api/workspaces/${ws}/invites`, body);
  const created = async (body: Record<string, unknown>): Promise<Created> => {
    const res = await invite(owner, body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json<Created>();
  };
  const message = (res: LightMyRequestResponse) => res.json<{ error: { message: string } }>().error.message;
  /** A user who joined through an invite link, with an API key. */
  async function joinAs(role: string): Promise<TestUser & { memberRole: string }> {
    const { token } = await created({ role });
    const email = `${role}-${Math.random().toString(36).slice(2)}@example.com`;
    const res = await signup(email, token);
    expect(res.statusCode, res.body).toBe(201);
    const cookie = String(res.headers['set-cookie']).split(';')[0]!;
    const key = await server.app.inject({
      method: 'POST',
      url: '/api/keys',
      headers: { cookie, origin: 'http://localhost' },
      payload: { name: 'k' },
    });
    const user = res.json<{ user: { id: string; defaultWorkspaceId: string } }>().user;
    return { ...user, email, cookie, key: key.json<{ key: string }>().key, keyId: '', memberRole: role };
  }

  it('the first user signs up; later ones only with an invite link, which joins them with its role', async () => {
    owner = await signUp(server.app);
    const ws = await call(server.app, owner, 'POST', '/api/workspaces', { name: 'Vision team' });
    workspaceId = ws.json<{ id: string }>().id;

    const closed = await signup('nolink@example.com');
    expect(closed.statusCode).toBe(403);
    expect(errorCode(closed)).toBe('SIGNUP_DISABLED');

    const link = await created({ role: 'editor' });
    expect(link.path).toBe(`/signup?invite=${link.token}`);
    expect(link.invite).toMatchObject({ role: 'editor', status: 'open' });

    const preview = await server.app.inject({ method: 'GET', url: `/api/auth/invites/${link.token}` });
    expect(preview.statusCode).toBe(200);
    expect(preview.json()).toMatchObject({ workspaceName: 'Vision team', role: 'editor', email: null });

    const joined = await signup('Grace@Example.com', link.token);
    expect(joined.statusCode, joined.body).toBe(201);
    const members = await call(server.app, owner, 'GET', `/api/workspaces/${workspaceId}/members`);
    expect(members.json<{ members: { email: string; role: string }[] }>().members).toContainEqual(
      expect.objectContaining({ email: 'grace@example.com', role: 'editor' }),
    );
    const listed = await call(server.app, owner, 'GET', `/api/workspaces/${workspaceId}/invites`);
    expect(listed.json<{ invites: { id: string; status: string; usedBy: string }[] }>().invites).toContainEqual(
      expect.objectContaining({ id: link.invite.id, status: 'used', usedBy: 'grace@example.com' }),
    );
  });

  it('stores only the hash of the token', async () => {
    const { token, invite: made } = await created({ role: 'viewer' });
    const rows = await server.database.db.selectFrom('workspace_invites').selectAll().where('id', '=', made.id).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_hash).toBe(createHash('sha256').update(token).digest('hex'));
    expect(JSON.stringify(rows)).not.toContain(token);
  });

  it('refuses used, revoked, expired and unknown links in words, creating no account', async () => {
    const used = await created({ role: 'viewer' });
    expect((await signup('first@example.com', used.token)).statusCode).toBe(201);
    const again = await signup('second@example.com', used.token);
    expect(again.statusCode).toBe(400);
    expect(errorCode(again)).toBe('INVITE_INVALID');
    expect(message(again)).toBe('This invite link has already been used; ask for a new one');

    const revoked = await created({ role: 'viewer' });
    const revoke = await call(server.app, owner, 'DELETE', `/api/workspaces/${workspaceId}/invites/${revoked.invite.id}`);
    expect(revoke.statusCode).toBe(200);
    expect(revoke.json<{ status: string }>().status).toBe('revoked');
    const afterRevoke = await signup('revoked@example.com', revoked.token);
    expect(afterRevoke.statusCode).toBe(400);
    expect(message(afterRevoke)).toBe('This invite link was revoked; ask for a new one');

    const expiring = await created({ role: 'viewer', expiresInDays: 1 });
    now += DAY + 1;
    const late = await signup('late@example.com', expiring.token);
    expect(late.statusCode).toBe(400);
    expect(message(late)).toBe('This invite link has expired; ask for a new one');
    const latePreview = await server.app.inject({ method: 'GET', url: `/api/auth/invites/${expiring.token}` });
    expect(latePreview.statusCode).toBe(400);

    const unknown = await signup('guess@example.com', 'not-a-token');
    expect(unknown.statusCode).toBe(404);
    expect(errorCode(unknown)).toBe('INVITE_NOT_FOUND');

    const users = await server.database.db
      .selectFrom('users')
      .select('email')
      .where('email', 'in', ['second@example.com', 'revoked@example.com', 'late@example.com', 'guess@example.com'])
      .execute();
    expect(users).toEqual([]);
  });

  it('an invite naming an address admits only that address; a taken address leaves the link open', async () => {
    const link = await created({ role: 'viewer', email: ' Ada@Example.com ' });
    const wrong = await signup('eve@example.com', link.token);
    expect(wrong.statusCode).toBe(400);
    expect(message(wrong)).toBe('This invite link is for ada@example.com; sign up with that address');

    expect((await signup('ada@example.com', link.token)).statusCode).toBe(201);

    const open = await created({ role: 'viewer' });
    const taken = await signup(owner.email, open.token);
    expect(taken.statusCode).toBe(409);
    expect(errorCode(taken)).toBe('EMAIL_TAKEN');
    expect((await signup('newcomer@example.com', open.token)).statusCode).toBe(201);
  });

  it('only admins and owners make, list and revoke invites, for roles up to their own; non-members get 404', async () => {
    const admin = await joinAs('admin');
    const editor = await joinAs('editor');
    const viewer = await joinAs('viewer');
    const stranger = await signup('stranger@example.com', (await created({ role: 'viewer' })).token);
    expect(stranger.statusCode).toBe(201);
    // The stranger is a member of that workspace now; a second workspace of the owner's is foreign to them.
    const other = await call(server.app, owner, 'POST', '/api/workspaces', { name: 'Private' });
    const privateWs = other.json<{ id: string }>().id;

    expect((await invite(admin, { role: 'editor' })).statusCode).toBe(201);
    const asOwner = await invite(admin, { role: 'owner' });
    expect(asOwner.statusCode).toBe(403);
    expect(message(asOwner)).toBe('Your role (admin) may not invite someone as owner');
    for (const member of [editor, viewer]) {
      expect((await invite(member, { role: 'viewer' })).statusCode).toBe(403);
      expect((await call(server.app, member, 'GET', `/api/workspaces/${workspaceId}/invites`)).statusCode).toBe(403);
    }
    const foreign = await invite(admin, { role: 'viewer' }, privateWs);
    expect(foreign.statusCode).toBe(404);
    expect(errorCode(foreign)).toBe('WORKSPACE_NOT_FOUND');
    const privateLink = await call(server.app, owner, 'POST', `/api/workspaces/${privateWs}/invites`, { role: 'viewer' });
    const privateId = privateLink.json<Created>().invite.id;
    const revokeForeign = await call(server.app, admin, 'DELETE', `/api/workspaces/${privateWs}/invites/${privateId}`);
    expect(revokeForeign.statusCode).toBe(404);
    // An invite id of another workspace is not found through this one.
    const crossed = await call(server.app, owner, 'DELETE', `/api/workspaces/${workspaceId}/invites/${privateId}`);
    expect(crossed.statusCode).toBe(404);
    expect(errorCode(crossed)).toBe('INVITE_NOT_FOUND');
  });

  it('refuses bad input with a 400: unknown fields, too long an expiry, a role that is none', async () => {
    for (const body of [
      { role: 'viewer', extra: 1 },
      { role: 'viewer', expiresInDays: INVITE_LIMITS.maxDays + 1 },
      { role: 'viewer', expiresInDays: 0 },
      { role: 'superuser' },
      { role: 'viewer', email: 'not-an-address' },
    ]) {
      const res = await invite(owner, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(errorCode(res)).toBe('VALIDATION_ERROR');
    }
  });
});

describe.each(DIALECTS)('invite tokens are throttled like logins on %s', (dialect) => {
  const server = useTestServer(dialect, { TORA_ALLOW_SIGNUP: 'false' });

  it('answers 429 after 50 unknown tokens from one address', async () => {
    await signUp(server.app);
    for (let i = 0; i < 50; i++) {
      const res = await server.app.inject({ method: 'GET', url: `/api/auth/invites/guess-${i}` });
      expect(res.statusCode).toBe(404);
    }
    const blocked = await server.app.inject({
      method: 'POST',
      url: '/api/auth/signup',
      payload: { email: 'guesser@example.com', password: 'correct horse battery', invite: 'guess-51' },
    });
    expect(blocked.statusCode).toBe(429);
    expect(errorCode(blocked)).toBe('RATE_LIMITED');
  });
});
