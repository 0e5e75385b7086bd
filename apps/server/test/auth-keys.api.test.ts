import { describe, expect, it } from 'vitest';
import { DIALECTS, ORIGIN, call, createExperiment, errorCode, signUp, useTestServer, type TestServer } from './harness.js';

describe.each(DIALECTS)('accounts and API keys on %s', (dialect) => {
  const server = useTestServer(dialect);

  const post = (url: string, payload: object, headers: Record<string, string> = {}) =>
    server.app.inject({ method: 'POST', url, payload, headers });

  describe('with signup closed', () => {
    const closed = useTestServer(dialect, { TORA_ALLOW_SIGNUP: 'false' });

    it('lets only the first user sign up when signup is closed', async () => {
      expect((await closed.app.inject({ method: 'GET', url: '/api/auth/setup' })).json()).toEqual({
        hasUsers: false,
        signupOpen: true,
      });
      const first = await closed.app.inject({
        method: 'POST',
        url: '/api/auth/signup',
        payload: { email: 'First@Example.com ', password: 'long enough pw' },
      });
      expect(first.statusCode).toBe(201);
      expect(first.json().user.email).toBe('first@example.com');
      expect(String(first.headers['set-cookie'])).toMatch(/tora_session=.*HttpOnly.*SameSite=Lax/i);
      const second = await closed.app.inject({
        method: 'POST',
        url: '/api/auth/signup',
        payload: { email: 'second@example.com', password: 'long enough pw' },
      });
      expect(second.statusCode).toBe(403);
      expect(errorCode(second)).toBe('SIGNUP_DISABLED');
    });
  });

  it('normalises emails, refuses duplicates with 409 and short or common passwords with 400', async () => {
    const ok = await post('/api/auth/signup', { email: 'Dup@Example.com', password: 'correct horse battery' });
    expect(ok.statusCode).toBe(201);
    const dup = await post('/api/auth/signup', { email: ' dup@example.COM', password: 'correct horse battery' });
    expect(dup.statusCode).toBe(409);
    expect(errorCode(dup)).toBe('EMAIL_TAKEN');
    const short = await post('/api/auth/signup', { email: 'short@example.com', password: 'short' });
    expect(short.statusCode).toBe(400);
    expect(short.json().error.details[0].path).toBe('body.password');
    // Spoken to people: the field by its name, Ajv's phrasing in plain words; the path stays in details.
    expect(short.json().error.message).toBe('Password must be at least 8 characters long');
    const common = await post('/api/auth/signup', { email: 'common@example.com', password: '12345678' });
    expect(common.statusCode).toBe(400);
    expect(common.json().error.message).toBe(
      'Password is too common: it is on the lists of passwords attackers try first; choose another (a few unrelated words make a good one)',
    );
    expect(common.json().error.details).toEqual([{ path: 'body.password', message: expect.stringMatching(/^is too common/) }]);
    const missing = await post('/api/auth/signup', { email: 'x@example.com' });
    expect(missing.json().error.message).toBe('Password is required');
    const extra = await post('/api/auth/signup', { email: 'x@example.com', password: 'correct horse battery', nickname: 'x' });
    expect(extra.json().error.message).toBe('Nickname is not a field this request takes');
    const email = await post('/api/auth/signup', { email: 'not-an-address', password: 'correct horse battery' });
    expect(email.json().error.message).toBe('Email must be an email address');
  });

  it('creates a Default workspace at signup', async () => {
    const user = await signUp(server.app);
    const list = (await call(server.app, user, 'GET', '/api/workspaces')).json().workspaces;
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ id: user.defaultWorkspaceId, name: 'Default', role: 'owner' });
  });

  it('logs in, reports me, logs out and revokes the session server-side', async () => {
    await post('/api/auth/signup', { email: 'login@example.com', password: 'correct horse battery' });
    const bad = await post('/api/auth/login', { email: 'login@example.com', password: 'wrong password' });
    expect(bad.statusCode).toBe(401);
    expect(errorCode(bad)).toBe('INVALID_CREDENTIALS');
    const res = await post('/api/auth/login', { email: 'LOGIN@example.com', password: 'correct horse battery' });
    expect(res.statusCode).toBe(200);
    const cookie = String(res.headers['set-cookie']).split(';')[0]!;
    const me = await server.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie } });
    expect(me.json().user.email).toBe('login@example.com');
    await server.app.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie, origin: ORIGIN } });
    const after = await server.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie } });
    expect(after.statusCode).toBe(401);
  });

  it('rate-limits failed logins per account with 429', async () => {
    await post('/api/auth/signup', { email: 'brute@example.com', password: 'correct horse battery' });
    const codes: number[] = [];
    for (let i = 0; i < 12; i++) {
      codes.push((await post('/api/auth/login', { email: 'brute@example.com', password: `guess-${i}-xx` })).statusCode);
    }
    expect(codes.slice(0, 10)).toEqual(new Array(10).fill(401));
    expect(codes.slice(10)).toEqual([429, 429]);
    // Even the right password waits out the window.
    const right = await post('/api/auth/login', { email: 'brute@example.com', password: 'correct horse battery' });
    expect(right.statusCode).toBe(429);
    expect(errorCode(right)).toBe('RATE_LIMITED');
  });

  describe('behind a trusted proxy', () => {
    const proxied = useTestServer(dialect, { TORA_TRUST_PROXY: 'true' });

    it('marks the session cookie Secure behind a trusted TLS proxy only', async () => {
      const login = (app: TestServer['app'], email: string) =>
        app.inject({
          method: 'POST',
          url: '/api/auth/signup',
          headers: { 'x-forwarded-proto': 'https' },
          payload: { email, password: 'correct horse battery' },
        });
      const untrusted = await login(server.app, 'proxy1@example.com');
      expect(String(untrusted.headers['set-cookie'])).not.toMatch(/Secure/);
      const trusted = await login(proxied.app, 'proxy2@example.com');
      expect(String(trusted.headers['set-cookie'])).toMatch(/; Secure/);
    });
  });

  it('refuses cookie-authenticated writes from another origin (CSRF)', async () => {
    const user = await signUp(server.app);
    const evil = await server.app.inject({
      method: 'POST',
      url: '/api/keys',
      headers: { cookie: user.cookie, origin: 'https://evil.example' },
      payload: { name: 'stolen' },
    });
    expect(evil.statusCode).toBe(403);
    expect(errorCode(evil)).toBe('CSRF_REJECTED');
    const none = await server.app.inject({
      method: 'POST',
      url: '/api/keys',
      headers: { cookie: user.cookie },
      payload: { name: 'x' },
    });
    expect(none.statusCode).toBe(403);
    const keys = (await call(server.app, user, 'GET', '/api/keys')).json().keys;
    expect(keys.map((k: { name: string }) => k.name)).toEqual(['test key']);
  });

  it('issues keys shown once, stored hashed, accepted as x-api-key and Bearer, revocable at once', async () => {
    const user = await signUp(server.app);
    expect(user.key).toMatch(/^tora_[0-9A-Za-z]{43,}$/);
    const stored = await server.database.db
      .selectFrom('api_keys')
      .selectAll()
      .where('id', '=', user.keyId)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(stored)).not.toContain(user.key);
    const listed = (await call(server.app, user, 'GET', '/api/keys')).json().keys;
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ id: user.keyId, name: 'test key', prefix: user.key.slice(0, 12), revoked: false });
    expect(listed[0].key).toBeUndefined();
    expect(listed[0].lastUsed).not.toBeNull();

    const bearer = await server.app.inject({
      method: 'GET',
      url: '/api/auth/me',
      headers: { authorization: `Bearer ${user.key}` },
    });
    expect(bearer.statusCode).toBe(200);

    const del = await call(server.app, user, 'DELETE', `/api/keys/${user.keyId}`);
    expect(del.statusCode).toBe(200);
    const after = await call(server.app, user, 'GET', '/api/auth/me');
    expect(after.statusCode).toBe(401);
    expect(errorCode(after)).toBe('INVALID_API_KEY');
    const cookieList = await server.app.inject({ method: 'GET', url: '/api/keys', headers: { cookie: user.cookie } });
    expect(cookieList.json().keys[0].revoked).toBe(true);
  });

  describe('on a server the test closes', () => {
    const flushing = useTestServer(dialect);

    it('coalesces lastUsed: many requests, at most one write', async () => {
      const user = await signUp(flushing.app);
      for (let i = 0; i < 20; i++) await call(flushing.app, user, 'GET', '/api/auth/me');
      const row = await flushing.database.db
        .selectFrom('api_keys')
        .select('last_used_at')
        .where('id', '=', user.keyId)
        .executeTakeFirstOrThrow();
      expect(row.last_used_at).toBeNull(); // not yet flushed: no write per request
      await flushing.app.close(); // flushes pending usage
      const flushed = await flushing.database.db
        .selectFrom('api_keys')
        .select('last_used_at')
        .where('id', '=', user.keyId)
        .executeTakeFirstOrThrow();
      expect(flushed.last_used_at).toBeGreaterThan(0);
    });
  });

  it('never answers anonymous requests with data', async () => {
    const res = await server.app.inject({ method: 'GET', url: '/api/experiments' });
    expect(res.statusCode).toBe(401);
    expect(errorCode(res)).toBe('UNAUTHORIZED');
  });

  it('a read-only key reads (GET, compare and analysis POSTs) and nothing else', async () => {
    const user = await signUp(server.app);
    const exp = await createExperiment(server.app, user);
    expect(
      (await call(server.app, user, 'POST', `/api/experiments/${exp}/metrics/batch`, [{ name: 'loss', value: 1 }])).statusCode,
    ).toBe(201);
    const created = await call(server.app, user, 'POST', '/api/keys', { name: 'dashboard', scope: 'read' });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ name: 'dashboard', scope: 'read', expiresAt: null });
    const reader = { key: created.json<{ key: string }>().key };
    expect((await call(server.app, reader, 'GET', `/api/experiments/${exp}`)).statusCode).toBe(200);
    expect((await call(server.app, reader, 'GET', `/api/experiments/${exp}/metrics/series?name=loss`)).statusCode).toBe(200);
    expect((await call(server.app, reader, 'POST', '/api/experiments/compare', { ids: [exp] })).statusCode).toBe(200);
    expect((await call(server.app, reader, 'POST', '/api/ai/analysis', { experimentId: exp })).statusCode).toBe(200);
    for (const [method, url, body] of [
      ['POST', '/api/experiments', { name: 'x' }],
      ['POST', `/api/experiments/${exp}/metrics/batch`, [{ name: 'loss', value: 2 }]],
      ['PUT', `/api/experiments/${exp}`, { name: 'renamed' }],
      ['DELETE', `/api/experiments/${exp}`, undefined],
      ['POST', '/api/keys', { name: 'escalate' }],
      ['POST', '/api/workspaces', { name: 'w' }],
    ] as const) {
      const res = await call(server.app, reader, method, url, body);
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json().error).toEqual({ code: 'FORBIDDEN', message: 'This API key is read-only' });
    }
    const after = (await call(server.app, user, 'GET', `/api/experiments/${exp}`)).json();
    expect(after.name).toBe('exp');
    const keys = (await call(server.app, user, 'GET', '/api/keys'))
      .json()
      .keys.map((k: { name: string; scope: string }) => [k.name, k.scope]);
    expect(keys.sort()).toEqual([
      ['dashboard', 'read'],
      ['test key', 'full'],
    ]);
  });

  describe('on a clock the test moves', () => {
    let now = Date.UTC(2026, 0, 1);
    const timed = useTestServer(dialect, {}, { clock: () => now });

    it('a key with an expiry works until then and is a 401 after', async () => {
      const user = await signUp(timed.app);
      const created = await call(timed.app, user, 'POST', '/api/keys', { name: 'ci', expiresInDays: 30 });
      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({ scope: 'full', expiresAt: '2026-01-31T00:00:00.000Z' });
      const ci = { key: created.json<{ key: string }>().key };
      now += 30 * 86_400_000 - 1;
      expect((await call(timed.app, ci, 'GET', '/api/auth/me')).statusCode).toBe(200);
      now += 1;
      const expired = await call(timed.app, ci, 'GET', '/api/auth/me');
      expect(expired.statusCode).toBe(401);
      expect(expired.json().error).toEqual({ code: 'INVALID_API_KEY', message: 'This API key has expired' });
      // The user's other key is untouched.
      expect((await call(timed.app, user, 'GET', '/api/auth/me')).statusCode).toBe(200);
    });
  });
});
