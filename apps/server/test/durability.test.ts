import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openDatabase, type Database } from '../src/db/database.js';
import { migrate } from '../src/db/migrate.js';
// @ts-expect-error plain ESM script shared with the benchmarks, no types
import { startCluster, startServer, stopCluster, stopServer } from '../../../scripts/pg-cluster.mjs';
import { startToraProcess, type ToraProcess } from '../../../scripts/tora-process.mjs';
import { DIALECTS, freshStorage, storageEnv, tempDir } from './harness.js';

const SERVER_DIR = fileURLToPath(new URL('..', import.meta.url));

/** The real server as its own process (tsx runs the sources), so it can be SIGKILLed. */
function startProcess(env: Record<string, string>): Promise<ToraProcess> {
  return startToraProcess({
    env,
    dataDir: env.TORA_DATA_DIR,
    command: [process.execPath, '--import', 'tsx', 'src/main.ts'],
    cwd: SERVER_DIR,
    stdout: 'ignore',
    timeoutMs: 60_000,
  });
}

const BATCHES = 120;
const POINTS = 500;

describe.each(DIALECTS)('durability on %s', (dialect) => {
  const children: ChildProcess[] = [];
  afterAll(() => children.forEach((c) => c.kill('SIGKILL')));

  it('keeps every acknowledged batch after SIGKILL, none half-written, and retries land exactly once', async () => {
    const storage = await freshStorage(dialect);
    const env = { TORA_DATA_DIR: storage.dataDir, TORA_DATABASE_URL: storage.databaseUrl ?? '', TORA_ALLOW_SIGNUP: 'true' };
    let server = await startProcess(env);
    children.push(server.child);

    const signup = await fetch(`${server.url}/api/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'durable@example.com', password: 'correct horse battery' }),
    });
    const cookie = (signup.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const keyRes = await fetch(`${server.url}/api/keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie, origin: server.url },
      body: JSON.stringify({ name: 'k' }),
    });
    const key = ((await keyRes.json()) as { key: string }).key;
    const headers = { 'content-type': 'application/json', 'x-api-key': key };
    const created = await fetch(`${server.url}/api/experiments`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: 'durable' }),
    });
    const id = ((await created.json()) as { experiment: { id: string } }).experiment.id;

    const body = (b: number): string => {
      const steps = Array.from({ length: POINTS }, (_, i) => b * POINTS + i);
      return JSON.stringify({
        batchId: `batch-${b}`,
        series: { loss: { steps, values: steps.map((s) => s * 0.5) }, acc: { steps, values: steps } },
      });
    };
    const send = async (base: string, b: number): Promise<boolean> => {
      try {
        const res = await fetch(`${base}/api/experiments/${id}/metrics/batch`, { method: 'POST', headers, body: body(b) });
        return res.status === 201;
      } catch {
        return false;
      }
    };

    // Four concurrent streams; the server is killed once about a third of the batches are acknowledged.
    const acked = new Set<number>();
    let next = 0;
    const base = server.url;
    const child = server.child;
    const stream = async (): Promise<void> => {
      while (next < BATCHES) {
        const b = next++;
        if (await send(base, b)) acked.add(b);
        if (acked.size === Math.floor(BATCHES / 3)) child.kill('SIGKILL');
      }
    };
    await Promise.all([stream(), stream(), stream(), stream()]);
    expect(child.signalCode ?? (await new Promise((r) => child.once('exit', (_c, s) => r(s))))).toBe('SIGKILL');
    expect(acked.size).toBeGreaterThanOrEqual(Math.floor(BATCHES / 3));
    expect(acked.size).toBeLessThan(BATCHES);

    server = await startProcess(env);
    children.push(server.child);
    const countSteps = async (): Promise<Map<number, number>> => {
      const perBatch = new Map<number, number>();
      for (const name of ['loss', 'acc']) {
        let cursor: string | null = null;
        do {
          const url: string = `${server.url}/api/experiments/${id}/metrics/raw?name=${name}&limit=20000${cursor ? `&cursor=${cursor}` : ''}`;
          const res = await fetch(url, { headers });
          if (res.status === 404) break;
          const page = (await res.json()) as { points: { step: number; value: number }[]; nextCursor: string | null };
          for (const p of page.points) {
            const b = Math.floor(p.step / POINTS);
            perBatch.set(b, (perBatch.get(b) ?? 0) + 1);
            expect(p.value).toBe(name === 'loss' ? p.step * 0.5 : p.step);
          }
          cursor = page.nextCursor;
        } while (cursor);
      }
      return perBatch;
    };

    const afterCrash = await countSteps();
    for (const b of acked) expect(afterCrash.get(b)).toBe(2 * POINTS);
    for (const [, count] of afterCrash) expect(count).toBe(2 * POINTS); // no batch half there

    for (let b = 0; b < BATCHES; b++) if (!acked.has(b)) expect(await send(server.url, b)).toBe(true);
    // Retrying acknowledged ones too must change nothing.
    for (const b of [...acked].slice(0, 5)) expect(await send(server.url, b)).toBe(true);
    const final = await countSteps();
    expect(final.size).toBe(BATCHES);
    for (let b = 0; b < BATCHES; b++) expect(final.get(b)).toBe(2 * POINTS);

    await server.stop();
    fs.rmSync(storage.dataDir, { recursive: true, force: true });
  }, 120_000);
});

/**
 * PostgreSQL restarting (a failover, an upgrade, `pg_ctl restart`) under a running server: its own
 * throwaway cluster, stopped with `-m fast` (every session ended, as a restart does) and started
 * again on the same port and directory.
 */
describe.each(DIALECTS.filter((d) => d === 'postgres'))('database restart on %s', () => {
  const children: ChildProcess[] = [];
  let cluster: { url: string; dir: string; port: number } | undefined;
  afterAll(() => {
    children.forEach((c) => c.kill('SIGKILL'));
    if (cluster) stopCluster(cluster.dir);
  });

  it('answers 503 in either error shape while the database is away, reconnects, and loses no acknowledged point', async () => {
    cluster = (await startCluster()) as { url: string; dir: string; port: number };
    const dataDir = tempDir('restart-');
    const server = await startProcess({ TORA_DATA_DIR: dataDir, TORA_DATABASE_URL: cluster.url, TORA_ALLOW_SIGNUP: 'true' });
    children.push(server.child);
    const signup = await fetch(`${server.url}/api/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'restart@example.com', password: 'correct horse battery' }),
    });
    const cookie = (signup.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const keyRes = await fetch(`${server.url}/api/keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie, origin: server.url },
      body: JSON.stringify({ name: 'k' }),
    });
    const headers = { 'content-type': 'application/json', 'x-api-key': ((await keyRes.json()) as { key: string }).key };
    const created = await fetch(`${server.url}/api/experiments`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: 'r' }),
    });
    const id = ((await created.json()) as { experiment: { id: string } }).experiment.id;

    // One writer sends batch after batch (a retrying client's next batch only after an answer).
    const acked = new Set<number>();
    const refused: number[] = [];
    let writing = true;
    const writer = (async () => {
      for (let b = 0; writing; b++) {
        const res = await fetch(`${server.url}/api/experiments/${id}/metrics/batch`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ batchId: `b${b}`, series: { loss: { steps: [b * 10, b * 10 + 1], values: [b, b] } } }),
        });
        if (res.status === 201) acked.add(b);
        else refused.push(res.status);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await new Promise((r) => setTimeout(r, 500));
    expect(acked.size).toBeGreaterThan(0);

    stopServer(cluster.dir, 'fast');
    const tora = await fetch(`${server.url}/api/experiments/${id}`, { headers });
    expect(tora.status).toBe(503);
    expect(((await tora.json()) as { error: { code: string } }).error.code).toBe('DATABASE_UNAVAILABLE');
    const mlflow = await fetch(`${server.url}/api/2.0/mlflow/runs/get?run_id=${id}`, { headers });
    expect(mlflow.status).toBe(503);
    expect(await mlflow.json()).toEqual({ error_code: 'TEMPORARILY_UNAVAILABLE', message: expect.any(String) });
    await new Promise((r) => setTimeout(r, 1000));
    expect(server.child.exitCode).toBeNull();

    startServer(cluster.dir, cluster.port);
    const back = Date.now();
    let healthyAfter: number | undefined;
    while (Date.now() - back < 10_000) {
      if ((await fetch(`${server.url}/api/experiments/${id}`, { headers })).status === 200) {
        healthyAfter = Date.now() - back;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(healthyAfter, 'served again within 10 s of the database coming back').toBeDefined();
    const ackedBefore = acked.size;
    await new Promise((r) => setTimeout(r, 500));
    writing = false;
    await writer;
    expect(acked.size).toBeGreaterThan(ackedBefore); // writes succeed again
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((s) => s === 503)).toBe(true);

    const raw = await fetch(`${server.url}/api/experiments/${id}/metrics/raw?name=loss&limit=20000`, { headers });
    const steps = new Set(((await raw.json()) as { points: { step: number }[] }).points.map((p) => p.step));
    for (const b of acked) {
      expect(steps.has(b * 10) && steps.has(b * 10 + 1), `batch ${b}`).toBe(true);
    }
    await server.stop();
  }, 120_000);
});

/** A statement past TORA_DB_STATEMENT_TIMEOUT_MS, or one whose client hung up, stops costing PostgreSQL. */
describe.each(DIALECTS.filter((d) => d === 'postgres'))('statement timeout and cancellation on %s', (dialect) => {
  const TIMEOUT_MS = 3000;
  let app: FastifyInstance;
  let database: Database;
  let base: string;
  const sleeping = async (): Promise<number> => {
    const res = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
      where state = 'active' and query like 'select pg_sleep%'`.execute(database.db);
    return res.rows[0]!.n;
  };
  beforeAll(async () => {
    const storage = await freshStorage(dialect);
    const config = loadConfig({
      ...storageEnv(storage),
      TORA_LOG_LEVEL: 'silent',
      TORA_DB_STATEMENT_TIMEOUT_MS: String(TIMEOUT_MS),
    });
    database = openDatabase(config);
    await migrate(database.db, database.dialect);
    app = await buildApp(config, { database, logger: false });
    // A query no public route can be made to run this long (filters are linear): the test's own.
    app.get('/api/test/sleep', async () => {
      await sql`select pg_sleep(10)`.execute(database.db);
      return {};
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await app.close();
    await database.close();
  });

  it(`cancels a statement past the timeout and answers 503 QUERY_TIMEOUT`, async () => {
    const started = Date.now();
    const res = await fetch(`${base}/api/test/sleep`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('QUERY_TIMEOUT');
    expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUT_MS - 100);
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 2000);
  });

  it('cancels the statement of a request whose client went away', async () => {
    const gone = new AbortController();
    const request = fetch(`${base}/api/test/sleep`, { signal: gone.signal }).catch(() => undefined);
    const deadline = Date.now() + 2000;
    while ((await sleeping()) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(await sleeping()).toBe(1);
    gone.abort();
    await request;
    const aborted = Date.now();
    while ((await sleeping()) > 0 && Date.now() - aborted < TIMEOUT_MS) await new Promise((r) => setTimeout(r, 20));
    expect(await sleeping()).toBe(0);
    expect(Date.now() - aborted).toBeLessThan(1500); // long before the statement timeout would have ended it
  });
});
