import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DIALECTS, startTestServer } from './harness.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

describe.each(DIALECTS)('health on %s', (dialect) => {
  it('reports status, version and the database dialect, without auth', async () => {
    const server = await startTestServer(dialect);
    try {
      const res = await server.app.inject({ method: 'GET', url: '/api/health' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ status: 'ok', version, database: dialect, dialect, features: ['metrics.f64-columns'] });
      expect(res.headers['server-timing']).toMatch(/^app;dur=[\d.]+$/);
    } finally {
      await server.close();
    }
  });
});
