import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { migrate } from '../src/db/migrate.js';
import { MLFLOW_LIMITS } from '../src/lib/limits.js';
import {
  DIALECTS,
  ORIGIN,
  call,
  errorCode,
  freshStorage,
  signUp,
  startTestServer,
  storageEnv,
  type TestServer,
  type TestUser,
} from './harness.js';

/**
 * The audit's medium and low findings (issue 21, 6–13): each request here once answered 500,
 * stored junk, was refused to a key allowed to make it, or left a file behind.
 */

const TRACKING = '/api/2.0/mlflow';
const ARTIFACTS = '/api/2.0/mlflow-artifacts/artifacts';
const DAY = 24 * 3600 * 1000;

const mlError = (res: LightMyRequestResponse): string => {
  const body = res.json<{ error_code?: unknown; message?: unknown }>();
  if (typeof body.error_code !== 'string' || typeof body.message !== 'string')
    throw new Error(`not MLflow's error shape: ${res.statusCode} ${res.body}`);
  return body.error_code;
};

describe.each(DIALECTS)('hardening (issue 21, medium and low) on %s', (dialect) => {
  let server: TestServer;
  let alice: TestUser;
  let port = 0;
  const QUOTA = 100;

  beforeAll(async () => {
    server = await startTestServer(dialect, { TORA_MAX_WORKSPACE_BYTES: String(QUOTA) });
    alice = await signUp(server.app);
    port = Number(new URL(await server.app.listen({ port: 0, host: '127.0.0.1' })).port);
  });
  afterAll(() => server.close());

  const auth = (user: { key: string }) => ({ authorization: `Bearer ${user.key}` });
  const ml = (user: { key: string }, method: 'GET' | 'POST', url: string, body?: object) =>
    method === 'GET'
      ? server.app.inject({ method, url: `${TRACKING}${url}`, headers: auth(user) })
      : server.app.inject({ method, url: `${TRACKING}${url}`, headers: auth(user), payload: body ?? {} });

  async function newExperiment(): Promise<string> {
    const res = await ml(alice, 'POST', '/experiments/create', { name: `exp-${Math.random().toString(36).slice(2)}` });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ experiment_id: string }>().experiment_id;
  }

  async function newRun(ws: string): Promise<string> {
    const res = await ml(alice, 'POST', '/runs/create', { experiment_id: ws });
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ run: { info: { run_id: string } } }>().run.info.run_id;
  }

  it('6: refuses start and end times past what a date holds, and the workspace list keeps answering', async () => {
    const ws = await newExperiment();
    for (const start of [2 ** 53 - 1, 8.64e15 + 1, -1]) {
      const res = await ml(alice, 'POST', '/runs/create', { experiment_id: ws, start_time: start });
      expect(res.statusCode, `start_time ${start}`).toBe(400);
      expect(mlError(res)).toBe('INVALID_PARAMETER_VALUE');
      expect(res.json().message).toContain('start_time');
    }
    const run = await newRun(ws);
    const end = await ml(alice, 'POST', '/runs/update', { run_id: run, end_time: String(2 ** 53 - 1) });
    expect(end.statusCode).toBe(400);
    expect(mlError(end)).toBe('INVALID_PARAMETER_VALUE');
    const edge = await ml(alice, 'POST', '/runs/create', { experiment_id: ws, start_time: 8.64e15 });
    expect(edge.statusCode).toBe(200);
    const listed = await call(server.app, alice, 'GET', `/api/experiments?workspaceId=${ws}`);
    expect(listed.statusCode, listed.body).toBe(200);
    expect((await ml(alice, 'GET', `/runs/get?run_id=${run}`)).json().run.info.end_time).toBeUndefined();
  });

  it('6: refuses metric timestamps outside Tora time range, as its own route does, and stores nothing', async () => {
    const run = await newRun(await newExperiment());
    for (const timestamp of [2 ** 53 - 1, 8.64e15 + 1]) {
      const res = await ml(alice, 'POST', '/runs/log-batch', {
        run_id: run,
        metrics: [
          { key: 'loss', value: 1, timestamp: 1, step: 0 },
          { key: 'loss', value: 2, timestamp, step: 1 },
        ],
      });
      expect(res.statusCode).toBe(400);
      expect(mlError(res)).toBe('INVALID_PARAMETER_VALUE');
      expect(res.json().message).toContain('8640000000000000');
    }
    const history = await ml(alice, 'GET', `/metrics/get-history?run_id=${run}&metric_key=loss`);
    expect(history.json()).toEqual({ metrics: [] });
  });

  it('7: a time attribute compared with a fraction, an overflow or a 20-digit number is a 400, not a 500', async () => {
    const ws = await newExperiment();
    await newRun(ws);
    for (const literal of ['1.5', '1e400', '12345678901234567890', '-1e400']) {
      for (const attribute of ['start_time', 'end_time', 'created']) {
        const filter = `attributes.${attribute} > ${literal}`;
        const res = await ml(alice, 'POST', '/runs/search', { experiment_ids: [ws], filter });
        expect(res.statusCode, `${filter}: ${res.body}`).toBe(400);
        expect(mlError(res)).toBe('INVALID_PARAMETER_VALUE');
        const list = await call(
          server.app,
          alice,
          'GET',
          `/api/experiments?workspaceId=${ws}&filter=${encodeURIComponent(filter)}`,
        );
        expect(list.statusCode, `${filter}: ${list.body}`).toBe(400);
        expect(errorCode(list)).toBe('VALIDATION_ERROR');
      }
    }
    const fine = await ml(alice, 'POST', '/runs/search', { experiment_ids: [ws], filter: 'attributes.start_time > 1000' });
    expect(fine.json().runs).toHaveLength(1);
  });

  it('8: experiment_ids repeated 40,000 times count once; more distinct ids than the cap are a 400', async () => {
    // "0" is the caller's default experiment (workspace): the shortest id, so 40,000 fit in a request body.
    const run = await newRun('0');
    const started = Date.now();
    const res = await ml(alice, 'POST', '/runs/search', { experiment_ids: Array.from({ length: 40_000 }, () => '0') });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().runs.map((r: { info: { run_id: string } }) => r.info.run_id)).toEqual([run]);
    expect(Date.now() - started).toBeLessThan(5000);
    const cap = MLFLOW_LIMITS.searchExperimentIds;
    const many = await ml(alice, 'POST', '/runs/search', {
      experiment_ids: Array.from({ length: cap + 1 }, (_, i) => String(1_000_000 + i)),
    });
    expect(many.statusCode).toBe(400);
    expect(mlError(many)).toBe('INVALID_PARAMETER_VALUE');
    expect(many.json().message).toContain(String(cap));
  });

  it('10: metric-directions refuses control characters in any key, and values whatever the key', async () => {
    const ws = alice.defaultWorkspaceId;
    const url = `/api/workspaces/${ws}/metric-directions`;
    for (const body of [
      { 'a\u0001b': 'min' },
      { 'val\nloss': 'max' },
      { 'tab\tname': null },
      { 'x\ny': { nested: true } },
      { 'x\ny': 'sideways' },
      { '': 'min' },
      { ['k'.repeat(257)]: 'min' },
    ]) {
      const res = await call(server.app, alice, 'PUT', url, body);
      expect(res.statusCode, `${JSON.stringify(body)}: ${res.body}`).toBe(400);
      expect(errorCode(res)).toBe('VALIDATION_ERROR');
    }
    const got = await call(server.app, alice, 'GET', url);
    expect(got.json().directions).toEqual({});
    const ok = await call(server.app, alice, 'PUT', url, { 'val/loss': 'min' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().directions).toEqual({ 'val/loss': 'min' });
  });

  it('11: a read-only key searches runs and experiments through MLflow, and still cannot write', async () => {
    const ws = await newExperiment();
    const run = await newRun(ws);
    const created = await call(server.app, alice, 'POST', '/api/keys', { name: 'notebook', scope: 'read' });
    expect(created.statusCode).toBe(201);
    const reader = { key: created.json<{ key: string }>().key };
    const runs = await ml(reader, 'POST', '/runs/search', { experiment_ids: [ws] });
    expect(runs.statusCode, runs.body).toBe(200);
    expect(runs.json().runs[0].info.run_id).toBe(run);
    const exps = await ml(reader, 'POST', '/experiments/search', { max_results: 10 });
    expect(exps.statusCode, exps.body).toBe(200);
    expect(exps.json().experiments.map((e: { experiment_id: string }) => e.experiment_id)).toContain(ws);
    const write = await ml(reader, 'POST', '/runs/create', { experiment_id: ws });
    expect(write.statusCode).toBe(403);
    expect(mlError(write)).toBe('PERMISSION_DENIED');
  });

  it('13: POST, PATCH and OPTIONS on an artifact path answer 405 with Allow, in MLflow shape', async () => {
    const ws = await newExperiment();
    const run = await newRun(ws);
    for (const method of ['POST', 'PATCH', 'OPTIONS'] as const) {
      const file = await server.app.inject({ method, url: `${ARTIFACTS}/${ws}/${run}/artifacts/a.txt`, headers: auth(alice) });
      expect(file.statusCode, `${method}: ${file.body}`).toBe(405);
      expect(file.headers.allow).toBe('DELETE, GET, PUT');
      mlError(file);
      const dir = await server.app.inject({ method, url: `${ARTIFACTS}?path=${ws}`, headers: auth(alice) });
      expect(dir.statusCode).toBe(405);
      expect(dir.headers.allow).toBe('GET');
    }
  });

  it('13: a malformed percent-encoding answers in the error shape of the API it names', async () => {
    for (const url of [`${ARTIFACTS}/a%ZZb`, `${ARTIFACTS}/x/%E0%A4%A`, `${TRACKING}/runs/g%ZZet`, '/ajax-api/2.0/mlflow/x%ZZ']) {
      const res = await server.app.inject({ method: 'GET', url, headers: auth(alice) });
      expect(res.statusCode, url).toBe(400);
      expect(mlError(res)).toBe('INVALID_PARAMETER_VALUE');
    }
    const tora = await server.app.inject({ method: 'GET', url: '/api/experiments/%ZZ', headers: auth(alice) });
    expect(tora.statusCode).toBe(400);
    expect(errorCode(tora)).toBe('VALIDATION_ERROR');
  });

  it("a path parameter past the router's 1,000 characters is a 400 in the error shape, never a 500", async () => {
    const long = 'm'.repeat(1_200);
    const tora = await server.app.inject({
      method: 'DELETE',
      url: `/api/workspaces/${alice.defaultWorkspaceId}/models/${long}/aliases/champion`,
      headers: auth(alice),
    });
    expect(tora.statusCode, tora.body).toBe(400);
    expect(errorCode(tora)).toBe('VALIDATION_ERROR');
    const ml = await server.app.inject({ method: 'GET', url: `${TRACKING}/registered-models/get/${long}`, headers: auth(alice) });
    expect(ml.statusCode).toBeLessThan(500);
  });

  it('12: MLflow endpoints answer 405 with Allow for other methods, QUERY without a body included', async () => {
    for (const [method, url, allow] of [
      ['DELETE', `${TRACKING}/runs/create`, 'POST'],
      ['PUT', `${TRACKING}/runs/get`, 'GET'],
      ['QUERY', `${TRACKING}/runs/get`, 'GET'],
      ['GET', `${TRACKING}/logged-models/search`, 'POST'],
      ['DELETE', `${TRACKING}/logged-models/search`, 'POST'],
      ['TRACE', `${ARTIFACTS}/a/b`, 'DELETE, GET, PUT'],
      ['QUERY', `${ARTIFACTS}/a/b`, 'DELETE, GET, PUT'],
    ] as const) {
      const res = await server.app.inject({ method, url, headers: auth(alice) });
      expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(405);
      expect(res.headers.allow).toBe(allow);
      mlError(res);
    }
    const unknown = await server.app.inject({ method: 'GET', url: `${TRACKING}/no/such/endpoint`, headers: auth(alice) });
    expect(unknown.statusCode).toBe(404);
    expect(mlError(unknown)).toBe('ENDPOINT_NOT_FOUND');
  });

  it('12: fuzzing finds: a metric value that only starts like a number, and an update naming no change', async () => {
    const run = await newRun(await newExperiment());
    const res = await ml(alice, 'POST', '/runs/log-metric', { run_id: run, key: 'loss', value: '1abc', timestamp: 1 });
    expect(res.statusCode).toBe(400);
    expect(mlError(res)).toBe('INVALID_PARAMETER_VALUE');
    expect(
      (await ml(alice, 'POST', '/runs/log-metric', { run_id: run, key: 'loss', value: '1e-3', timestamp: 1 })).statusCode,
    ).toBe(200);
    const bob = await signUp(server.app);
    const update = await ml(bob, 'POST', '/experiments/update', { experiment_id: alice.defaultWorkspaceId });
    expect(update.statusCode).toBe(404);
    expect(mlError(update)).toBe('RESOURCE_DOES_NOT_EXIST');
    expect((await ml(alice, 'POST', '/experiments/update', {})).statusCode).toBe(400);
    // A JSON body that is not an object, and a list where one string goes: MLflow's 400.
    const nullBody = await server.app.inject({
      method: 'POST',
      url: `${TRACKING}/experiments/search`,
      headers: { ...auth(alice), 'content-type': 'application/json' },
      payload: 'null',
    });
    expect(nullBody.statusCode).toBe(400);
    expect(mlError(nullBody)).toBe('INVALID_PARAMETER_VALUE');
    const listed = await ml(alice, 'POST', '/runs/search', { experiment_ids: ['0'], page_token: ['x'] });
    expect(listed.statusCode).toBe(400);
    // In a query string a repeated name is still read once.
    const twice = await ml(alice, 'GET', `/runs/get?run_id=${run}&run_id=${run}`);
    expect(twice.statusCode).toBe(200);
  });

  it('12: the MLflow and artifact routes are in the OpenAPI document, tagged MLflow, with MLflow error shapes', async () => {
    const doc = (await server.app.inject({ method: 'GET', url: '/api/openapi.json' })).json<{
      paths: Record<string, Record<string, { tags?: string[]; responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    }>();
    for (const [path, method] of [
      ['/api/2.0/mlflow/runs/search', 'post'],
      ['/api/2.0/mlflow/runs/log-batch', 'post'],
      ['/api/2.0/mlflow/metrics/get-history', 'get'],
      ['/api/2.0/mlflow/logged-models/{model_id}', 'patch'],
      ['/api/2.0/mlflow-artifacts/artifacts/{path}', 'put'],
      ['/api/2.0/mlflow-artifacts/artifacts', 'get'],
    ] as const) {
      const op = doc.paths[path]?.[method];
      expect(op?.tags, `${method} ${path}`).toEqual(['MLflow']);
      const ref = /"\$ref":"#\/components\/schemas\/([^"]+)"/.exec(JSON.stringify(op?.responses['400']))?.[1] ?? '';
      expect(Object.keys(doc.components.schemas[ref]?.properties ?? {})).toEqual(['error_code', 'message']);
    }
    expect(Object.keys(doc.paths).some((p) => p.startsWith('/ajax-api'))).toBe(false);
  });

  /** Starts a PUT over HTTP, sends `first`, and returns a way to send the rest and read the answer. */
  function slowPut(artifactPath: string, first: Buffer, total: number) {
    const req = http.request({
      host: '127.0.0.1',
      port,
      method: 'PUT',
      path: `${ARTIFACTS}/${artifactPath}`,
      headers: { ...auth(alice), 'content-type': 'application/octet-stream', 'content-length': String(total) },
    });
    const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
      req.on('response', (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
    });
    req.write(first);
    return { finish: (rest: Buffer) => (req.end(rest), answer) };
  }

  const onDisk = (...segments: string[]) => path.join(server.dataDir, 'artifacts', ...segments);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('9: an upload racing the deletion of its run answers 404 and leaves no file', async () => {
    const ws = await newExperiment();
    const run = await newRun(ws);
    const upload = slowPut(`${ws}/${run}/artifacts/late.bin`, Buffer.alloc(10, 1), 20);
    await sleep(300);
    const del = await call(server.app, alice, 'DELETE', `/api/experiments/${run}`);
    expect(del.statusCode, del.body).toBe(200);
    const res = await upload.finish(Buffer.alloc(10, 2));
    expect(res.status, res.body).toBe(404);
    expect(JSON.parse(res.body).error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    expect(fs.existsSync(onDisk(ws, run))).toBe(false);
  });

  it('9: TORA_MAX_WORKSPACE_BYTES refuses an upload past the quota with MLflow 413, declared or streamed', async () => {
    const ws = await newExperiment();
    const run = await newRun(ws);
    const put = (name: string, bytes: number) =>
      server.app.inject({
        method: 'PUT',
        url: `${ARTIFACTS}/${ws}/${run}/artifacts/${name}`,
        headers: { ...auth(alice), 'content-type': 'application/octet-stream' },
        payload: Buffer.alloc(bytes, 7),
      });
    expect((await put('a.bin', 60)).statusCode).toBe(200);
    const over = await put('b.bin', 41);
    expect(over.statusCode).toBe(413);
    expect(mlError(over)).toBe('RESOURCE_LIMIT_EXCEEDED');
    expect(over.json().message).toContain('TORA_MAX_WORKSPACE_BYTES');
    expect(fs.existsSync(onDisk(ws, run, 'artifacts', 'b.bin'))).toBe(false);
    // Streamed without a length: cut at the quota all the same.
    const streamed = slowPut(`${ws}/${run}/artifacts/c.bin`, Buffer.alloc(30, 1), 50);
    expect((await streamed.finish(Buffer.alloc(20, 1))).status).toBe(413);
    // Replacing a file counts only the difference; another workspace has its own quota.
    expect((await put('a.bin', 100)).statusCode).toBe(200);
    expect((await put('tiny', 1)).statusCode).toBe(413);
    const other = await newExperiment();
    const otherRun = await newRun(other);
    const elsewhere = await server.app.inject({
      method: 'PUT',
      url: `${ARTIFACTS}/${other}/${otherRun}/artifacts/x`,
      headers: { ...auth(alice), 'content-type': 'application/octet-stream' },
      payload: Buffer.alloc(100),
    });
    expect(elsewhere.statusCode).toBe(200);
  });
});

describe.each(DIALECTS)('artifact housekeeping on %s', (dialect) => {
  it('9: sweeps upload parts older than a day from artifacts-tmp at start, keeping fresh ones', async () => {
    const storage = await freshStorage(dialect);
    const tmp = path.join(storage.dataDir, 'artifacts-tmp');
    fs.mkdirSync(tmp, { recursive: true });
    const stale = path.join(tmp, 'stale.part');
    const fresh = path.join(tmp, 'fresh.part');
    fs.writeFileSync(stale, 'left by a crash');
    fs.writeFileSync(fresh, 'an upload in progress');
    const twoDaysAgo = new Date(Date.now() - 2 * DAY);
    fs.utimesSync(stale, twoDaysAgo, twoDaysAgo);
    const server = await startTestServer(dialect, {}, { storage });
    try {
      expect(fs.existsSync(stale)).toBe(false);
      expect(fs.existsSync(fresh)).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('9: sweeps stale parts again every hour while running, not only at start', async () => {
    const storage = await freshStorage(dialect);
    const tmp = path.join(storage.dataDir, 'artifacts-tmp');
    // Only the interval is faked: the server, its database and the sweep itself run on real time.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const server = await startTestServer(dialect, {}, { storage });
    try {
      fs.mkdirSync(tmp, { recursive: true });
      const stale = path.join(tmp, 'crashed-later.part');
      const fresh = path.join(tmp, 'in-progress.part');
      fs.writeFileSync(stale, 'left by an upload cut after start');
      fs.writeFileSync(fresh, 'an upload in progress');
      const twoDaysAgo = new Date(Date.now() - 2 * DAY);
      fs.utimesSync(stale, twoDaysAgo, twoDaysAgo);
      vi.advanceTimersByTime(59 * 60 * 1000);
      await new Promise((r) => setTimeout(r, 200));
      expect(fs.existsSync(stale), 'swept before the hour was up').toBe(true);
      vi.advanceTimersByTime(60 * 1000);
      for (let i = 0; i < 100 && fs.existsSync(stale); i++) await new Promise((r) => setTimeout(r, 20));
      expect(fs.existsSync(stale)).toBe(false);
      expect(fs.existsSync(fresh)).toBe(true);
    } finally {
      vi.useRealTimers();
      await server.close();
    }
  });

  it('13: a cut upload is logged at info, never as an unhandled error', async () => {
    const storage = await freshStorage(dialect);
    const config = loadConfig({ ...storageEnv(storage), TORA_ALLOW_SIGNUP: 'true' });
    const database = openDatabase(config);
    await migrate(database.db, database.dialect);
    const lines: { level: number; msg: string }[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean))
          lines.push(JSON.parse(line) as { level: number; msg: string });
        done();
      },
    });
    const app = await buildApp(config, { database, logger: { level: 'info', stream } });
    try {
      const port = Number(new URL(await app.listen({ port: 0, host: '127.0.0.1' })).port);
      const user = await signUp(app);
      const created = await app.inject({
        method: 'POST',
        url: `${TRACKING}/runs/create`,
        headers: { 'x-api-key': user.key, origin: ORIGIN },
        payload: { experiment_id: user.defaultWorkspaceId },
      });
      const run = created.json<{ run: { info: { run_id: string } } }>().run.info.run_id;
      await new Promise<void>((resolve) => {
        const req = http.request({
          host: '127.0.0.1',
          port,
          method: 'PUT',
          path: `${ARTIFACTS}/${user.defaultWorkspaceId}/${run}/artifacts/cut.bin`,
          headers: { 'x-api-key': user.key, 'content-type': 'application/octet-stream', 'content-length': '1000' },
        });
        req.on('error', () => resolve());
        req.write(Buffer.alloc(100));
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 300);
      });
      for (let i = 0; i < 50 && !lines.some((l) => l.msg.includes('cut off')); i++) await new Promise((r) => setTimeout(r, 20));
      expect(lines.find((l) => l.msg.includes('cut off'))?.level).toBe(30);
      expect(lines.filter((l) => l.level >= 50)).toEqual([]);
      expect(fs.readdirSync(path.join(storage.dataDir, 'artifacts-tmp'))).toEqual([]);
    } finally {
      await app.close();
      await database.close();
      fs.rmSync(storage.dataDir, { recursive: true, force: true });
    }
  });
});
