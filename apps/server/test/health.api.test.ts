import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { call, DIALECTS, useTestServer, useUser } from './harness.js';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

describe.each(DIALECTS)('health on %s', (dialect) => {
  const server = useTestServer(dialect);
  const alice = useUser(server);

  it('reports status, version and the database dialect, without auth', async () => {
    const res = await server.app.inject({ method: 'GET', url: '/api/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      status: 'ok',
      version,
      database: dialect,
      dialect,
      features: ['metrics.f64-columns', 'experiments.run-info', 'experiments.files'],
    });
    expect(res.headers['server-timing']).toMatch(/^app;dur=[\d.]+$/);
  });

  it('lists "experiments.run-info" because experiments take group and runInfo', async () => {
    const health = await server.app.inject({ method: 'GET', url: '/api/health' });
    expect(health.json<{ features: string[] }>().features).toContain('experiments.run-info');
    const runInfo = { command: 'python train.py', host: 'node-1' };
    const res = await call(server.app, alice, 'POST', '/api/experiments', { name: 'e', group: 'sweep', runInfo });
    expect(res.statusCode).toBe(201);
    expect(res.json<{ experiment: unknown }>().experiment).toMatchObject({ group: 'sweep', runInfo });
  });
});
