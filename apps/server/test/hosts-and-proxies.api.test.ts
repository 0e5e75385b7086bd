import { describe, expect, it } from 'vitest';
import { DIALECTS, errorCode, startTestServer, useTestServer, type TestServer } from './harness.js';

/**
 * Which Host a server answers to (DNS rebinding), which Origin may write with a cookie (scheme,
 * host and port) and which proxies are believed for the client's address, scheme and host.
 */
describe.each(DIALECTS)('hosts, origins and proxies on %s', (dialect) => {
  const fresh = useTestServer(dialect, { TORA_ALLOW_SIGNUP: 'false' });

  const countUsers = async (server: TestServer) =>
    Number(
      (
        await server.database.db
          .selectFrom('users')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('a DNS-rebinding page cannot create the first account of a fresh install', async () => {
    for (const host of ['rebind.evil.example', 'rebind.evil.example:8080', '0x7f000001.evil.example']) {
      const res = await fresh.app.inject({
        method: 'POST',
        url: '/api/auth/signup',
        headers: { host, origin: `http://${host}` },
        payload: { email: 'attacker@example.com', password: 'correct horse battery' },
      });
      expect(res.statusCode, host).toBe(421);
      expect(errorCode(res)).toBe('HOST_NOT_ALLOWED');
    }
    const page = await fresh.app.inject({ method: 'GET', url: '/', headers: { host: 'rebind.evil.example' } });
    expect(page.statusCode).toBe(421);
    expect(await countUsers(fresh)).toBe(0);
    expect((await fresh.app.inject({ method: 'GET', url: '/api/auth/setup' })).json()).toEqual({
      hasUsers: false,
      signupOpen: true,
    });
  });

  it.each(['localhost', 'localhost:8080', 'tora.localhost:8080', '127.0.0.1:8080', '[::1]:8080', '192.168.1.20'])(
    'answers loopback names and IP literals by default: %s',
    async (host) => {
      const res = await fresh.app.inject({ method: 'GET', url: '/api/health', headers: { host } });
      expect(res.statusCode).toBe(200);
    },
  );

  it('answers names listed in TORA_ALLOWED_HOSTS or TORA_PUBLIC_URL, and no others', async () => {
    const server = await startTestServer(dialect, {
      TORA_ALLOWED_HOSTS: 'tora.internal,.team.example',
      TORA_PUBLIC_URL: 'https://tora.example.com',
    });
    try {
      const status = async (host: string) =>
        (await server.app.inject({ method: 'GET', url: '/api/health', headers: { host } })).statusCode;
      expect(await status('tora.internal:8080')).toBe(200);
      expect(await status('TORA.internal')).toBe(200);
      expect(await status('team.example')).toBe(200);
      expect(await status('a.team.example')).toBe(200);
      expect(await status('tora.example.com')).toBe(200);
      expect(await status('evilteam.example')).toBe(421);
      expect(await status('tora.internal.evil.example')).toBe(421);
      expect(await status('example.com')).toBe(421);
    } finally {
      await server.close();
    }
  });

  it('TORA_ALLOWED_HOSTS=* answers any host', async () => {
    const server = await startTestServer(dialect, { TORA_ALLOWED_HOSTS: '*' });
    try {
      const res = await server.app.inject({ method: 'GET', url: '/api/health', headers: { host: 'anything.example' } });
      expect(res.statusCode).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('behind a trusted TLS proxy, the browser origin is https://<public host> and only that passes CSRF', async () => {
    const server = await startTestServer(dialect, { TORA_TRUST_PROXY: 'true', TORA_ALLOWED_HOSTS: 'tora.example.com' });
    try {
      const proxied = { host: '127.0.0.1:8080', 'x-forwarded-host': 'tora.example.com', 'x-forwarded-proto': 'https' };
      const signup = await server.app.inject({
        method: 'POST',
        url: '/api/auth/signup',
        headers: { ...proxied, origin: 'https://tora.example.com' },
        payload: { email: 'proxied@example.com', password: 'correct horse battery' },
      });
      expect(signup.statusCode).toBe(201);
      const cookie = String(signup.headers['set-cookie']).split(';')[0]!;
      const write = (origin: string) =>
        server.app.inject({
          method: 'POST',
          url: '/api/workspaces',
          headers: { ...proxied, cookie, origin },
          payload: { name: 'w' },
        });
      for (const origin of ['http://tora.example.com', 'https://tora.example.com:8443', 'https://evil.example']) {
        const res = await write(origin);
        expect(res.statusCode, origin).toBe(403);
        expect(errorCode(res)).toBe('CSRF_REJECTED');
      }
      expect((await write('https://tora.example.com')).statusCode).toBe(201);
      // A forwarded host that is not ours is refused like a direct one.
      const rebound = await server.app.inject({
        method: 'GET',
        url: '/api/health',
        headers: { ...proxied, 'x-forwarded-host': 'rebind.evil.example' },
      });
      expect(rebound.statusCode).toBe(421);
    } finally {
      await server.close();
    }
  });

  it('TORA_PUBLIC_URL and TORA_TRUSTED_ORIGINS admit exactly their origin', async () => {
    const server = await startTestServer(dialect, {
      TORA_PUBLIC_URL: 'https://tora.example.com',
      TORA_TRUSTED_ORIGINS: 'https://other.example:8443',
    });
    try {
      const signup = await server.app.inject({
        method: 'POST',
        url: '/api/auth/signup',
        payload: { email: 'public@example.com', password: 'correct horse battery' },
      });
      const cookie = String(signup.headers['set-cookie']).split(';')[0]!;
      const write = async (origin: string) =>
        (
          await server.app.inject({
            method: 'POST',
            url: '/api/workspaces',
            headers: { cookie, origin },
            payload: { name: 'w' },
          })
        ).statusCode;
      expect(await write('https://tora.example.com')).toBe(201);
      expect(await write('https://tora.example.com:443')).toBe(201);
      expect(await write('https://other.example:8443')).toBe(201);
      expect(await write('http://tora.example.com')).toBe(403);
      expect(await write('https://other.example')).toBe(403);
    } finally {
      await server.close();
    }
  });
});
