import { describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { openDatabase } from '../src/db/database.js';
import { DIALECTS, errorCode, startTestServer, useTestServer, type TestServer } from './harness.js';

const PASSWORD = 'correct horse battery';

/** Login throttling by address and account, the addresses a proxy may vouch for, and login timing. */
describe.each(DIALECTS)('login throttling on %s', (dialect) => {
  const server = useTestServer(dialect);

  const signup = (app: TestServer['app'], email: string) =>
    app.inject({ method: 'POST', url: '/api/auth/signup', payload: { email, password: PASSWORD } });
  const login = (
    app: TestServer['app'],
    email: string,
    password: string,
    from: { remoteAddress?: string; headers?: Record<string, string> } = {},
  ) =>
    app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email, password },
      ...(from.remoteAddress ? { remoteAddress: from.remoteAddress } : {}),
      headers: from.headers ?? {},
    });

  it('ten wrong passwords from one address do not lock the owner out from another', async () => {
    expect((await signup(server.app, 'victim@example.com')).statusCode).toBe(201);
    const attacker = { remoteAddress: '203.0.113.10' };
    for (let i = 0; i < 10; i++) {
      expect((await login(server.app, 'victim@example.com', `guess number ${i}`, attacker)).statusCode).toBe(401);
    }
    const blocked = await login(server.app, 'victim@example.com', PASSWORD, attacker);
    expect(blocked.statusCode).toBe(429);
    expect(errorCode(blocked)).toBe('RATE_LIMITED');
    const owner = await login(server.app, 'victim@example.com', PASSWORD, { remoteAddress: '198.51.100.20' });
    expect(owner.statusCode).toBe(200);
  });

  it('the limits hold across servers on one database: ten guesses split over two replicas block the pair', async () => {
    const replicaDb = openDatabase(server.config);
    const replica = await buildApp(server.config, { database: replicaDb, logger: false });
    try {
      expect((await signup(server.app, 'replicated@example.com')).statusCode).toBe(201);
      const attacker = { remoteAddress: '203.0.113.40' };
      for (let i = 0; i < 10; i++) {
        const app = i % 2 ? replica : server.app;
        expect((await login(app, 'replicated@example.com', `guess number ${i}`, attacker)).statusCode).toBe(401);
      }
      for (const app of [server.app, replica]) {
        const blocked = await login(app, 'replicated@example.com', PASSWORD, attacker);
        expect(blocked.statusCode).toBe(429);
        expect(errorCode(blocked)).toBe('RATE_LIMITED');
      }
    } finally {
      await replica.close();
      await replicaDb.close();
    }
  });

  it('an unknown e-mail costs the same time as a known one', async () => {
    expect((await signup(server.app, 'timed@example.com')).statusCode).toBe(201);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 5; i++) {
      // Distinct addresses so the throttle never answers first.
      let t = performance.now();
      expect(
        (await login(server.app, 'timed@example.com', `wrong ${i} pass`, { remoteAddress: `192.0.2.${i}` })).statusCode,
      ).toBe(401);
      known.push(performance.now() - t);
      t = performance.now();
      expect(
        (await login(server.app, `nobody${i}@example.com`, `wrong ${i} pass`, { remoteAddress: `192.0.2.${i}` })).statusCode,
      ).toBe(401);
      unknown.push(performance.now() - t);
    }
    const ratio = median(unknown) / median(known);
    expect(ratio, `unknown ${median(unknown).toFixed(1)} ms vs known ${median(known).toFixed(1)} ms`).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });

  it('behind one trusted proxy, a spoofed X-Forwarded-For does not dodge the per-address limit', async () => {
    const proxied = await startTestServer(dialect, { TORA_TRUST_PROXY: 'true' });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 70; i++) {
        // The client sends its own X-Forwarded-For; the proxy (the socket peer) appends the real address.
        const res = await login(proxied.app, `spoof${i}@example.com`, 'not the password', {
          remoteAddress: '127.0.0.1',
          headers: { 'x-forwarded-for': `10.66.${i}.1, 203.0.113.99` },
        });
        codes.push(res.statusCode);
      }
      expect(codes.filter((c) => c === 401)).toHaveLength(50);
      expect(codes.slice(50)).toEqual(new Array(20).fill(429));
      // Another client behind the same proxy is unaffected.
      const other = await login(proxied.app, 'someone@example.com', 'not the password', {
        headers: { 'x-forwarded-for': '203.0.113.100' },
      });
      expect(other.statusCode).toBe(401);
    } finally {
      await proxied.close();
    }
  });

  it('with proxy addresses listed, X-Forwarded-* is believed from those addresses only', async () => {
    const proxied = await startTestServer(dialect, { TORA_TRUST_PROXY: '10.0.0.1,10.1.0.0/16' });
    try {
      const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.5' };
      const direct = await proxied.app.inject({
        method: 'POST',
        url: '/api/auth/signup',
        remoteAddress: '192.0.2.77',
        headers: forwarded,
        payload: { email: 'direct@example.com', password: PASSWORD },
      });
      expect(direct.statusCode).toBe(201);
      expect(String(direct.headers['set-cookie'])).not.toMatch(/Secure/);
      for (const proxy of ['10.0.0.1', '10.1.200.3']) {
        const res = await login(proxied.app, 'direct@example.com', PASSWORD, { remoteAddress: proxy, headers: forwarded });
        expect(res.statusCode, proxy).toBe(200);
        expect(String(res.headers['set-cookie'])).toMatch(/; Secure/);
      }
    } finally {
      await proxied.close();
    }
  });
});
