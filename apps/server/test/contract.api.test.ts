import { describe, expect, it } from 'vitest';
import { generateOpenApi } from '../src/openapi.js';
import { DIALECTS, errorCode, signUp, startTestServer, useTestServer, useUser } from './harness.js';

/**
 * What the published contract promises beyond each route's own schemas (schemathesis checks the
 * same against a live server in scripts/test-contract.sh): an undeclared method on a known path is
 * a 405 naming the declared ones, public routes say they need no credentials, and every error of
 * a non-JSON route is documented as JSON.
 */
type Doc = {
  security: unknown[];
  paths: Record<
    string,
    Record<string, { security?: unknown[]; responses: Record<string, { content?: Record<string, unknown> }> }>
  >;
};

describe('the published contract', () => {
  it('marks exactly the public routes as needing no credentials', async () => {
    const doc = JSON.parse(await generateOpenApi()) as Doc;
    expect(doc.security.length).toBeGreaterThan(0);
    const open = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => Array.isArray(op.security) && op.security.length === 0)
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(open.sort()).toEqual([
      'GET /api/auth/invites/{token}',
      'GET /api/auth/setup',
      'GET /api/client',
      'GET /api/client/{file}',
      'GET /api/health',
      'POST /api/auth/login',
      'POST /api/auth/logout',
      'POST /api/auth/signup',
    ]);
  });

  it('documents CSV errors as JSON and the CSV itself as text/csv', async () => {
    const doc = JSON.parse(await generateOpenApi()) as Doc;
    const csv = doc.paths['/api/experiments/{id}/metrics/csv']!.get!.responses;
    expect(Object.keys(csv['200']!.content!)).toEqual(['text/csv']);
    for (const status of ['400', '401', '404']) expect(Object.keys(csv[status]!.content!)).toEqual(['application/json']);
  });

  it('documents the client wheel as application/zip and its errors as JSON', async () => {
    const doc = JSON.parse(await generateOpenApi()) as Doc;
    const wheel = doc.paths['/api/client/{file}']!.get!.responses;
    expect(Object.keys(wheel['200']!.content!)).toEqual(['application/zip']);
    for (const status of ['401', '404']) expect(Object.keys(wheel[status]!.content!)).toEqual(['application/json']);
  });
});

describe('a query string as long as the schemas allow', () => {
  it('reaches the route (400 naming the limit just past it), not a 431 from the HTTP parser', async () => {
    const server = await startTestServer('sqlite');
    try {
      const user = await signUp(server.app);
      const url = await server.app.listen({ host: '127.0.0.1', port: 0 });
      // 4-byte characters percent-encode to 12 bytes each: 2,001 of them is a 24 KB request line.
      const filter = encodeURIComponent('\u{1F600}'.repeat(2_001));
      const res = await fetch(`${url}/api/experiments?filter=${filter}`, { headers: { 'x-api-key': user.key } });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('VALIDATION_ERROR');
    } finally {
      await server.close();
    }
  });
});

describe.each(DIALECTS)('undeclared methods on %s', (dialect) => {
  const server = useTestServer(dialect);
  const alice = useUser(server);

  it.each([
    { method: 'DELETE', url: (): string => '/api/auth/signup', allow: 'POST' },
    { method: 'PATCH', url: (): string => '/api/keys', allow: 'GET, POST' },
    { method: 'PUT', url: (): string => `/api/keys/${alice.keyId}`, allow: 'DELETE' },
    { method: 'DELETE', url: (): string => '/api/health', allow: 'GET' },
    { method: 'PUT', url: (): string => '/api/experiments/compare', allow: 'GET, POST' },
    { method: 'DELETE', url: (): string => '/api/experiments/bulk', allow: 'POST' },
    { method: 'GET', url: (): string => '/api/experiments/bulk', allow: 'POST' },
    { method: 'DELETE', url: (): string => '/api/experiments/compare', allow: 'GET, POST' },
    { method: 'OPTIONS', url: (): string => '/api/workspaces', allow: 'GET, POST' },
    { method: 'PATCH', url: (): string => `/api/experiments/${alice.defaultWorkspaceId}/metrics/batch`, allow: 'POST' },
  ] as const)('$method on a path that has $allow is 405 with Allow', async ({ method, url, allow }) => {
    const res = await server.app.inject({ method, url: url(), headers: { 'x-api-key': alice.key } });
    expect(res.statusCode, res.body).toBe(405);
    expect(res.headers.allow).toBe(allow);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(errorCode(res)).toBe('METHOD_NOT_ALLOWED');
  });

  it('an unknown path stays 404', async () => {
    const res = await server.app.inject({ method: 'PATCH', url: '/api/nothing-here', headers: { 'x-api-key': alice.key } });
    expect(res.statusCode).toBe(404);
    expect(errorCode(res)).toBe('NOT_FOUND');
  });
});
