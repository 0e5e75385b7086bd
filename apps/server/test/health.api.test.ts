import fs, { readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { migrate } from '../src/db/migrate.js';
import { call, DIALECTS, freshStorage, s3Env, startTestServer, storageEnv, useTestServer, useUser } from './harness.js';

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
      fileStore: 'directory',
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

describe.each(DIALECTS)('health of the file store on %s', (dialect) => {
  const check = async (env: Record<string, string>, breakIt?: (dataDir: string) => void) => {
    const server = await startTestServer(dialect, env);
    try {
      breakIt?.(server.dataDir);
      const res = await server.app.inject({ method: 'GET', url: '/api/health' });
      return { status: res.statusCode, body: res.json<Record<string, unknown>>() };
    } finally {
      await server.close();
    }
  };

  it('answers 200 naming the S3 store when its bucket answers', async () => {
    const { status, body } = await check(s3Env());
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', fileStore: 's3', database: dialect });
  });

  it('fails with 503 when the bucket is missing or its server does not answer', async () => {
    const env = s3Env();
    const missing = await check({ ...env, TORA_ARTIFACT_STORE: 's3://no-such-bucket-here/x' });
    expect(missing.status).toBe(503);
    expect(missing.body).toEqual({
      error: {
        code: 'FILE_STORE_UNAVAILABLE',
        message: 'Unhealthy: the file store did not answer',
        details: { database: 'ok', fileStore: 'unavailable' },
      },
    });
    const started = Date.now();
    const away = await check({ ...env, TORA_S3_ENDPOINT: 'http://127.0.0.1:9' });
    expect(away.status).toBe(503);
    expect(away.body).toMatchObject({ error: { code: 'FILE_STORE_UNAVAILABLE' } });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('fails with 503 when the directory store cannot be written', async () => {
    const { status, body } = await check({}, (dataDir) => {
      fs.rmSync(path.join(dataDir, 'artifacts'), { recursive: true, force: true });
      fs.writeFileSync(path.join(dataDir, 'artifacts'), 'not a directory');
    });
    expect(status).toBe(503);
    expect(body).toMatchObject({
      error: { code: 'FILE_STORE_UNAVAILABLE', details: { database: 'ok', fileStore: 'unavailable' } },
    });
  });

  it('logs an error line naming the store that did not answer', async () => {
    const storage = await freshStorage(dialect);
    const config = loadConfig({ ...storageEnv(storage), ...s3Env(), TORA_ARTIFACT_STORE: 's3://no-such-bucket-here/x' });
    const database = openDatabase(config);
    await migrate(database.db, database.dialect);
    const lines: { level: number; msg: string; err?: unknown }[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as (typeof lines)[number]);
        done();
      },
    });
    const app = await buildApp(config, { database, logger: { level: 'warn', stream } });
    try {
      expect((await app.inject({ method: 'GET', url: '/api/health' })).statusCode).toBe(503);
      const logged = lines.filter((l) => l.level === 50);
      expect(logged.map((l) => l.msg)).toContain('health check: the file store (bucket no-such-bucket-here) does not answer');
      expect(logged.find((l) => l.msg.startsWith('health check'))?.err).toBeDefined();
    } finally {
      await app.close();
      await database.close();
      fs.rmSync(storage.dataDir, { recursive: true, force: true });
    }
  });
});
