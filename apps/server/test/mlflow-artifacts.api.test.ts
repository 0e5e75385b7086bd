import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { LightMyRequestResponse } from 'fastify';
import { beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS, addMember, call, signUp, tempDir, useTestServer, useUser, type TestUser } from './harness.js';

const TRACKING = '/api/2.0/mlflow';
const ARTIFACTS = '/api/2.0/mlflow-artifacts/artifacts';
const CAP = 4096;

describe.each(DIALECTS)('MLflow artifacts and logged models on %s', (dialect) => {
  // Listening too: paths with '..' must reach the server as sent (inject, like browsers, resolves them).
  const server = useTestServer(dialect, { TORA_MAX_ARTIFACT_BYTES: String(CAP) }, { listen: true });
  const alice = useUser(server);
  const bob = useUser(server);
  let port = 0;
  beforeAll(() => {
    port = Number(new URL(server.origin!).port);
  });

  const auth = (user: TestUser | null): Record<string, string> => (user ? { authorization: `Bearer ${user.key}` } : {});

  const ml = (user: TestUser | null, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: Record<string, unknown>) =>
    method === 'GET'
      ? server.app.inject({ method, url: `${TRACKING}${url}`, headers: auth(user) })
      : server.app.inject({ method, url: `${TRACKING}${url}`, headers: auth(user), payload: body ?? {} });

  const put = (user: TestUser | null, artifactPath: string, payload: string | Buffer, type = 'application/octet-stream') =>
    server.app.inject({
      method: 'PUT',
      url: `${ARTIFACTS}/${artifactPath}`,
      headers: { ...auth(user), 'content-type': type },
      payload,
    });
  const get = (user: TestUser | null, artifactPath: string) =>
    server.app.inject({ method: 'GET', url: `${ARTIFACTS}/${artifactPath}`, headers: auth(user) });
  const del = (user: TestUser | null, artifactPath: string) =>
    server.app.inject({ method: 'DELETE', url: `${ARTIFACTS}/${artifactPath}`, headers: auth(user) });
  const list = (user: TestUser | null, artifactPath: string) =>
    server.app.inject({ method: 'GET', url: `${ARTIFACTS}?path=${encodeURIComponent(artifactPath)}`, headers: auth(user) });

  /** A request over HTTP with the path exactly as written. */
  const raw = (
    method: string,
    rawPath: string,
    user: TestUser,
    body = '',
  ): Promise<{ status: number; json: { error_code?: string } }> =>
    new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, method, path: rawPath, headers: auth(user) }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as { error_code?: string } }));
      });
      req.on('error', reject);
      req.end(body);
    });

  const mlError = (res: LightMyRequestResponse): string => {
    const body = res.json<{ error_code?: unknown; message?: unknown }>();
    if (typeof body.error_code !== 'string' || typeof body.message !== 'string')
      throw new Error(`not MLflow's error shape: ${res.statusCode} ${res.body}`);
    return body.error_code;
  };

  async function newExperiment(user: TestUser): Promise<string> {
    const res = await ml(user, 'POST', '/experiments/create', { name: `exp-${Math.random().toString(36).slice(2)}` });
    expect(res.statusCode).toBe(200);
    return res.json<{ experiment_id: string }>().experiment_id;
  }

  /** A run and the artifact root its artifact_uri resolves to (MLflow: tracking URI + ARTIFACTS + uri path). */
  async function newRun(user: TestUser, experimentId?: string): Promise<{ ws: string; runId: string; root: string }> {
    const ws = experimentId ?? (await newExperiment(user));
    const res = await ml(user, 'POST', '/runs/create', { experiment_id: ws });
    expect(res.statusCode).toBe(200);
    const info = res.json<{ run: { info: { run_id: string; artifact_uri: string } } }>().run.info;
    expect(info.artifact_uri).toBe(`mlflow-artifacts:/${ws}/${info.run_id}/artifacts`);
    return { ws, runId: info.run_id, root: `${ws}/${info.run_id}/artifacts` };
  }

  const onDisk = (...segments: string[]) => path.join(server.dataDir, 'artifacts', ...segments);

  it('runs/get and runs/search report the artifact URI that MLflow resolves to the proxy', async () => {
    const { ws, runId } = await newRun(alice);
    const got = await ml(alice, 'GET', `/runs/get?run_id=${runId}`);
    expect(got.json().run.info.artifact_uri).toBe(`mlflow-artifacts:/${ws}/${runId}/artifacts`);
    const found = await ml(alice, 'POST', '/runs/search', { experiment_ids: [ws] });
    expect(found.json().runs[0].info.artifact_uri).toBe(`mlflow-artifacts:/${ws}/${runId}/artifacts`);
  });

  it('uploads, lists and downloads files byte for byte, whatever their content type (also under /ajax-api)', async () => {
    const { root } = await newRun(alice);
    const weights = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 7) % 256));
    expect((await put(alice, `${root}/model/weights.bin`, weights)).statusCode).toBe(200);
    // A JSON or text file is stored as sent, never parsed (the API refuses text/plain elsewhere).
    const json = '{"not": "parsed", ';
    expect((await put(alice, `${root}/config.json`, json, 'application/json')).statusCode).toBe(200);
    expect((await put(alice, `${root}/notes.txt`, 'hello', 'text/plain')).statusCode).toBe(200);
    expect((await put(alice, `${root}/empty`, Buffer.alloc(0))).statusCode).toBe(200);
    const untyped = await server.app.inject({
      method: 'PUT',
      url: `${ARTIFACTS}/${root}/untyped`,
      headers: auth(alice),
      payload: 'raw',
    });
    expect(untyped.statusCode, untyped.body).toBe(200);

    const top = await list(alice, root);
    expect(top.statusCode).toBe(200);
    expect(top.json()).toEqual({
      files: [
        { path: 'config.json', is_dir: false, file_size: json.length },
        { path: 'empty', is_dir: false, file_size: 0 },
        { path: 'model', is_dir: true },
        { path: 'notes.txt', is_dir: false, file_size: 5 },
        { path: 'untyped', is_dir: false, file_size: 3 },
      ],
    });
    expect((await list(alice, `${root}/model`)).json()).toEqual({
      files: [{ path: 'weights.bin', is_dir: false, file_size: 3000 }],
    });
    // download_artifacts(run_id, ".") lists `<root>/.`: the directory itself, as MLflow's normpath reads it.
    expect((await list(alice, `${root}/.`)).json()).toEqual(top.json());
    // MLflow lists a file's path as nothing, and a path with nothing there too.
    expect((await list(alice, `${root}/notes.txt`)).json()).toEqual({ files: [] });
    expect((await list(alice, `${root}/nothing-here`)).json()).toEqual({ files: [] });

    const down = await get(alice, `${root}/model/weights.bin`);
    expect(down.statusCode).toBe(200);
    expect(down.rawPayload.equals(weights)).toBe(true);
    expect(down.headers['content-type']).toBe('application/octet-stream');
    expect(down.headers['content-disposition']).toMatch(/^attachment;/);
    expect((await get(alice, `${root}/config.json`)).body).toBe(json);
    const ajax = await server.app.inject({
      method: 'GET',
      url: `/ajax-api/2.0/mlflow-artifacts/artifacts/${root}/notes.txt`,
      headers: auth(alice),
    });
    expect(ajax.body).toBe('hello');
    // Uploading again replaces the file.
    await put(alice, `${root}/notes.txt`, 'hello again', 'text/plain');
    expect((await get(alice, `${root}/notes.txt`)).body).toBe('hello again');

    const dir = await get(alice, `${root}/model`);
    expect(dir.statusCode).toBe(404);
    expect(mlError(dir)).toBe('RESOURCE_DOES_NOT_EXIST');
    const missing = await get(alice, `${root}/model/nope.bin`);
    expect(missing.statusCode).toBe(404);
    expect(mlError(missing)).toBe('RESOURCE_DOES_NOT_EXIST');
  });

  it('viewers read but cannot write; non-members and other workspaces get 404; anonymous 401', async () => {
    const { ws, runId, root } = await newRun(alice);
    await put(alice, `${root}/a.txt`, 'secret', 'text/plain');
    const carol = await signUp(server.app);
    await addMember(server.app, alice, ws, carol, 'viewer');

    expect((await get(carol, `${root}/a.txt`)).body).toBe('secret');
    expect((await list(carol, root)).json().files).toHaveLength(1);
    for (const res of [await put(carol, `${root}/b.txt`, 'x'), await del(carol, `${root}/a.txt`)]) {
      expect(res.statusCode).toBe(403);
      expect(mlError(res)).toBe('PERMISSION_DENIED');
    }
    for (const res of [
      await get(bob, `${root}/a.txt`),
      await list(bob, root),
      await put(bob, `${root}/b.txt`, 'x'),
      await del(bob, `${root}/a.txt`),
    ]) {
      expect(res.statusCode).toBe(404);
      expect(mlError(res)).toBe('RESOURCE_DOES_NOT_EXIST');
    }
    // Bob's own workspace id with Alice's run id: still not Alice's files.
    const bobsRoot = `${bob.defaultWorkspaceId}/${runId}/artifacts`;
    expect((await get(bob, `${bobsRoot}/a.txt`)).statusCode).toBe(404);
    expect((await put(bob, `${bobsRoot}/a.txt`, 'x')).statusCode).toBe(404);
    const anonymous = await get(null, `${root}/a.txt`);
    expect(anonymous.statusCode).toBe(401);
    expect(mlError(anonymous)).toBe('UNAUTHENTICATED');
    expect((await get(alice, `${root}/a.txt`)).body).toBe('secret');
    expect(fs.existsSync(onDisk(ws, runId, 'artifacts', 'b.txt'))).toBe(false);
  });

  it('a read-only API key downloads but does not upload', async () => {
    const { root } = await newRun(alice);
    await put(alice, `${root}/a.txt`, 'data', 'text/plain');
    const keyRes = await call(server.app, alice, 'POST', '/api/keys', { name: 'ro', scope: 'read' });
    expect(keyRes.statusCode).toBe(201);
    const ro = { ...alice, key: keyRes.json<{ key: string }>().key };
    expect((await get(ro, `${root}/a.txt`)).body).toBe('data');
    const refused = await put(ro, `${root}/b.txt`, 'x');
    expect(refused.statusCode).toBe(403);
    expect(mlError(refused)).toBe('PERMISSION_DENIED');
    // Searching logged models is a read (how runs:/<run>/<name> URIs load), though a POST.
    const ws = root.split('/')[0];
    expect((await ml(ro, 'POST', '/logged-models/search', { experiment_ids: [ws] })).statusCode).toBe(200);
    expect((await ml(ro, 'POST', '/logged-models', { experiment_id: ws })).statusCode).toBe(403);
  });

  it("writes only under a run's artifacts/ (or a logged model's), never beside them", async () => {
    const { ws, runId } = await newRun(alice);
    for (const where of [`${ws}/${runId}/elsewhere.txt`, `${ws}/${runId}/models/m-unknown/artifacts/x`, `${ws}/file.txt`]) {
      const res = await put(alice, where, 'x');
      expect(res.statusCode, where).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, where).toBeLessThan(500);
      mlError(res);
    }
    expect(fs.existsSync(onDisk(ws, runId, 'elsewhere.txt'))).toBe(false);
    expect(fs.existsSync(onDisk(ws, 'file.txt'))).toBe(false);
  });

  it('refuses path traversal, absolute paths, NUL, backslashes and symbolic links with INVALID_PARAMETER_VALUE', async () => {
    const { ws, runId, root } = await newRun(alice);
    await put(alice, `${root}/ok.txt`, 'ok');
    const outside = tempDir('outside-');
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'outside secret');
    const bad = [
      `${root}/%2E%2E/%2E%2E/%2E%2E/outside.txt`,
      `${root}/../../../outside.txt`,
      `${root}/sub/./x.txt`,
      `${root}/a%5Cb.txt`,
      `${root}/a%00b.txt`,
      `${root}//x.txt`,
      `/${root}/x.txt`,
    ];
    for (const p of bad) {
      for (const method of ['PUT', 'GET', 'DELETE']) {
        const res = await raw(method, `${ARTIFACTS}/${p}`, alice, method === 'PUT' ? 'x' : '');
        expect(res.status, `${method} ${p}`).toBe(400);
        expect(res.json.error_code).toBe('INVALID_PARAMETER_VALUE');
      }
    }
    expect((await get(alice, `${root}/ok.txt`)).body).toBe('ok');
    for (const p of [`${root}/../..`, `/etc`, `${root}/a\\b`, `${root}/./x`, `${root}/..`]) {
      const res = await list(alice, p);
      expect(res.statusCode, p).toBe(400);
      expect(mlError(res)).toBe('INVALID_PARAMETER_VALUE');
    }
    // A link planted in the store (Tora never makes one) is not followed, for reads or writes.
    fs.symlinkSync(outside, onDisk(ws, runId, 'artifacts', 'link'));
    for (const res of [
      await get(alice, `${root}/link/secret.txt`),
      await list(alice, `${root}/link`),
      await put(alice, `${root}/link/planted.txt`, 'x'),
      await del(alice, `${root}/link/secret.txt`),
    ]) {
      expect(res.statusCode).toBe(400);
      expect(mlError(res)).toBe('INVALID_PARAMETER_VALUE');
    }
    expect(fs.readdirSync(outside)).toEqual(['secret.txt']);
    expect(fs.readdirSync(path.dirname(server.dataDir)).filter((n) => n === 'outside.txt')).toEqual([]);
  });

  it(`refuses a file over TORA_MAX_ARTIFACT_BYTES with 413, declared or streamed, and stores nothing`, async () => {
    const { ws, runId, root } = await newRun(alice);
    expect((await put(alice, `${root}/exact.bin`, Buffer.alloc(CAP, 1))).statusCode).toBe(200);
    const declared = await put(alice, `${root}/big.bin`, Buffer.alloc(CAP + 1, 1));
    expect(declared.statusCode).toBe(413);
    expect(mlError(declared)).toBe('RESOURCE_LIMIT_EXCEEDED');
    expect(declared.json().message).toMatch(/TORA_MAX_ARTIFACT_BYTES/);
    // No Content-Length (a chunked stream): counted while written, and the partial file removed.
    const streamed = await server.app.inject({
      method: 'PUT',
      url: `${ARTIFACTS}/${root}/streamed.bin`,
      headers: { ...auth(alice), 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked' },
      payload: Readable.from([Buffer.alloc(CAP, 2), Buffer.alloc(CAP, 3)]),
    });
    expect(streamed.statusCode).toBe(413);
    expect(mlError(streamed)).toBe('RESOURCE_LIMIT_EXCEEDED');
    expect(fs.readdirSync(onDisk(ws, runId, 'artifacts')).sort()).toEqual(['exact.bin']);
    expect(fs.readdirSync(path.join(server.dataDir, 'artifacts-tmp'))).toEqual([]);
  });

  it('a cut upload leaves no file and no temporary file', async () => {
    const { ws, runId, root } = await newRun(alice);
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.write(
          `PUT ${ARTIFACTS}/${root}/cut.bin HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${alice.key}\r\n` +
            `Content-Type: application/octet-stream\r\nContent-Length: 4000\r\n\r\n`,
        );
        socket.write(Buffer.alloc(1000, 9), () => setTimeout(() => socket.destroy(), 200));
      });
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
    // The server notices the cut, then removes the temporary file.
    const tmp = path.join(server.dataDir, 'artifacts-tmp');
    for (let i = 0; i < 50 && fs.existsSync(tmp) && fs.readdirSync(tmp).length > 0; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(fs.existsSync(tmp) ? fs.readdirSync(tmp) : []).toEqual([]);
    expect(fs.existsSync(onDisk(ws, runId, 'artifacts', 'cut.bin'))).toBe(false);
    expect((await list(alice, root)).json()).toEqual({ files: [] });
  });

  it('DELETE removes a file or a directory; deleting the Tora experiment or workspace removes its files', async () => {
    const ws = await newExperiment(alice);
    const one = await newRun(alice, ws);
    await put(alice, `${one.root}/a.txt`, 'a');
    await put(alice, `${one.root}/dir/b.txt`, 'b');
    await put(alice, `${one.root}/dir/sub/c.txt`, 'c');
    expect((await del(alice, `${one.root}/a.txt`)).statusCode).toBe(200);
    expect((await del(alice, `${one.root}/dir`)).statusCode).toBe(200);
    expect((await list(alice, one.root)).json()).toEqual({ files: [] });
    expect(fs.readdirSync(onDisk(ws, one.runId, 'artifacts'))).toEqual([]);

    await put(alice, `${one.root}/kept-until-delete.txt`, 'x');
    const two = await newRun(alice, ws);
    await put(alice, `${two.root}/x.txt`, 'x');
    expect((await call(server.app, alice, 'DELETE', `/api/experiments/${one.runId}`)).statusCode).toBeLessThan(300);
    expect(fs.existsSync(onDisk(ws, one.runId))).toBe(false);
    expect(fs.existsSync(onDisk(ws, two.runId, 'artifacts', 'x.txt'))).toBe(true);

    const three = await newRun(alice, ws);
    await put(alice, `${three.root}/x.txt`, 'x');
    const bulk = await call(server.app, alice, 'POST', '/api/experiments/bulk', { ids: [three.runId], action: 'delete' });
    expect(bulk.statusCode).toBe(200);
    expect(fs.existsSync(onDisk(ws, three.runId))).toBe(false);

    expect((await call(server.app, alice, 'DELETE', `/api/workspaces/${ws}`)).statusCode).toBeLessThan(300);
    expect(fs.existsSync(onDisk(ws))).toBe(false);
  });

  it('logged models: create for a run, upload under its artifact_uri, finalize, tags, params, search, delete', async () => {
    const { ws, runId } = await newRun(alice);
    const created = await ml(alice, 'POST', '/logged-models', {
      experiment_id: ws,
      name: 'model',
      model_type: 'python_function',
      source_run_id: runId,
      params: [{ key: 'lr', value: '0.1' }],
      tags: [{ key: 'mlflow.source.type', value: 'LOCAL' }],
    });
    expect(created.statusCode, created.body).toBe(200);
    const model = created.json().model;
    expect(model.info).toMatchObject({
      experiment_id: ws,
      name: 'model',
      source_run_id: runId,
      status: 'LOGGED_MODEL_PENDING',
      tags: [{ key: 'mlflow.source.type', value: 'LOCAL' }],
    });
    const id: string = model.info.model_id;
    expect(id).toMatch(/^m-[0-9a-f]{32}$/);
    expect(model.info.artifact_uri).toBe(`mlflow-artifacts:/${ws}/${runId}/models/${id}/artifacts`);
    expect(model.data.params).toEqual([{ key: 'lr', value: '0.1' }]);

    const modelRoot = `${ws}/${runId}/models/${id}/artifacts`;
    expect((await put(alice, `${modelRoot}/MLmodel`, 'flavors: {}')).statusCode).toBe(200);
    expect((await list(alice, modelRoot)).json()).toEqual({ files: [{ path: 'MLmodel', is_dir: false, file_size: 11 }] });

    const ready = await ml(alice, 'PATCH', `/logged-models/${id}`, { model_id: id, status: 'LOGGED_MODEL_READY' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().model.info.status).toBe('LOGGED_MODEL_READY');
    const badStatus = await ml(alice, 'PATCH', `/logged-models/${id}`, { status: 'DONE' });
    expect(badStatus.statusCode).toBe(400);
    expect(mlError(badStatus)).toBe('INVALID_PARAMETER_VALUE');

    expect((await ml(alice, 'PATCH', `/logged-models/${id}/tags`, { tags: [{ key: 'stage', value: 'dev' }] })).statusCode).toBe(
      200,
    );
    expect((await ml(alice, 'POST', `/logged-models/${id}/params`, { params: [{ key: 'epochs', value: '3' }] })).statusCode).toBe(
      200,
    );
    expect((await ml(alice, 'DELETE', `/logged-models/${id}/tags/mlflow.source.type`)).statusCode).toBe(200);
    const got = (await ml(alice, 'GET', `/logged-models/${id}`)).json().model;
    expect(got.info.tags).toEqual([{ key: 'stage', value: 'dev' }]);
    expect(got.data.params).toEqual([
      { key: 'lr', value: '0.1' },
      { key: 'epochs', value: '3' },
    ]);
    const missingTag = await ml(alice, 'DELETE', `/logged-models/${id}/tags/nope`);
    expect(missingTag.statusCode).toBe(404);

    const search = await ml(alice, 'POST', '/logged-models/search', { experiment_ids: [ws] });
    expect(search.json().models.map((m: { info: { model_id: string } }) => m.info.model_id)).toEqual([id]);
    // The filter MLflow's client sends to resolve runs:/<run>/<name> URIs.
    const ids = async (filter: string) =>
      (await ml(alice, 'POST', '/logged-models/search', { experiment_ids: [ws], filter }))
        .json()
        .models.map((m: { info: { model_id: string } }) => m.info.model_id);
    expect(await ids("name = 'model'")).toEqual([id]);
    expect(await ids(`name = 'model' AND source_run_id = '${runId}'`)).toEqual([id]);
    expect(await ids("name = 'other'")).toEqual([]);
    expect(await ids(`attributes.source_run_id != '${runId}'`)).toEqual([]);
    const unsupported = await ml(alice, 'POST', '/logged-models/search', { experiment_ids: [ws], filter: "name > 'm'" });
    expect(unsupported.statusCode).toBe(400);
    expect(mlError(unsupported)).toBe('INVALID_PARAMETER_VALUE');

    // The run's outputs name the model (log_model with an active run).
    expect((await ml(alice, 'POST', '/runs/outputs', { run_id: runId, models: [{ model_id: id, step: 0 }] })).statusCode).toBe(
      200,
    );

    expect((await ml(alice, 'DELETE', `/logged-models/${id}`, { model_id: id })).statusCode).toBe(200);
    expect((await ml(alice, 'GET', `/logged-models/${id}`)).statusCode).toBe(404);
    expect(fs.existsSync(onDisk(ws, runId, 'models', id))).toBe(false);
  });

  it('logged models: without a run they live under the experiment; access follows the workspace', async () => {
    const ws = await newExperiment(alice);
    const created = await ml(alice, 'POST', '/logged-models', { experiment_id: ws });
    expect(created.statusCode).toBe(200);
    const id: string = created.json().model.info.model_id;
    expect(created.json().model.info.artifact_uri).toBe(`mlflow-artifacts:/${ws}/models/${id}/artifacts`);
    expect(created.json().model.info.name).not.toBe('');
    expect((await put(alice, `${ws}/models/${id}/artifacts/w.bin`, 'w')).statusCode).toBe(200);
    expect((await get(alice, `${ws}/models/${id}/artifacts/w.bin`)).body).toBe('w');
    // Only the model's artifacts/ is writable, and only for a model that exists there.
    expect((await put(alice, `${ws}/models/${id}/other.bin`, 'w')).statusCode).toBe(400);
    expect((await put(alice, `${ws}/models/m-0000/artifacts/w.bin`, 'w')).statusCode).toBe(404);

    const carol = await signUp(server.app);
    await addMember(server.app, alice, ws, carol, 'viewer');
    expect((await ml(carol, 'GET', `/logged-models/${id}`)).statusCode).toBe(200);
    expect((await get(carol, `${ws}/models/${id}/artifacts/w.bin`)).body).toBe('w');
    const viewerCreates = await ml(carol, 'POST', '/logged-models', { experiment_id: ws });
    expect(viewerCreates.statusCode).toBe(403);
    expect(mlError(viewerCreates)).toBe('PERMISSION_DENIED');
    const viewerFinalizes = await ml(carol, 'PATCH', `/logged-models/${id}`, { status: 'LOGGED_MODEL_READY' });
    expect(viewerFinalizes.statusCode).toBe(403);
    for (const res of [
      await ml(bob, 'GET', `/logged-models/${id}`),
      await ml(bob, 'PATCH', `/logged-models/${id}`, { status: 'LOGGED_MODEL_READY' }),
      await get(bob, `${ws}/models/${id}/artifacts/w.bin`),
    ]) {
      expect(res.statusCode).toBe(404);
      expect(mlError(res)).toBe('RESOURCE_DOES_NOT_EXIST');
    }
    // A run of another workspace is kept as the model's source (as MLflow keeps any), its files not beside that run's.
    const elsewhere = await newRun(alice);
    const foreign = await ml(alice, 'POST', '/logged-models', { experiment_id: ws, source_run_id: elsewhere.runId });
    expect(foreign.statusCode).toBe(200);
    expect(foreign.json().model.info.artifact_uri).toMatch(new RegExp(`^mlflow-artifacts:/${ws}/models/`));
    const anonymous = await ml(null, 'POST', '/logged-models', { experiment_id: ws });
    expect(anonymous.statusCode).toBe(401);
  });

  it('deleting the run deletes its logged models and their files', async () => {
    const { ws, runId } = await newRun(alice);
    const id: string = (await ml(alice, 'POST', '/logged-models', { experiment_id: ws, source_run_id: runId })).json().model.info
      .model_id;
    await put(alice, `${ws}/${runId}/models/${id}/artifacts/MLmodel`, 'x');
    expect((await call(server.app, alice, 'DELETE', `/api/experiments/${runId}`)).statusCode).toBeLessThan(300);
    expect((await ml(alice, 'GET', `/logged-models/${id}`)).statusCode).toBe(404);
    expect(fs.existsSync(onDisk(ws, runId))).toBe(false);
  });

  it("log_model's re-sent points (same point plus model_id) do not append to the run's curve", async () => {
    const { ws, runId } = await newRun(alice);
    const t = 1_700_000_000_000;
    const points = [0, 1, 2].map((step) => ({ key: 'loss', value: 1 / (step + 1), timestamp: t + step, step }));
    expect((await ml(alice, 'POST', '/runs/log-batch', { run_id: runId, metrics: points })).statusCode).toBe(200);
    const id: string = (await ml(alice, 'POST', '/logged-models', { experiment_id: ws, source_run_id: runId })).json().model.info
      .model_id;
    // What MLflow's log_model sends (log_model_metrics_for_step): the step's points again, with model_id.
    const relinked = await ml(alice, 'POST', '/runs/log-batch', { run_id: runId, metrics: [{ ...points[0], model_id: id }] });
    expect(relinked.statusCode).toBe(200);
    // A point that is new is stored, model_id or not.
    const fresh = { key: 'loss', value: 0.2, timestamp: t + 3, step: 3, model_id: id };
    expect((await ml(alice, 'POST', '/runs/log-batch', { run_id: runId, metrics: [fresh] })).statusCode).toBe(200);
    const history = await ml(alice, 'GET', `/metrics/get-history?run_id=${runId}&metric_key=loss`);
    expect(history.json().metrics.map((m: { step: number }) => m.step)).toEqual([0, 1, 2, 3]);
  });
});
