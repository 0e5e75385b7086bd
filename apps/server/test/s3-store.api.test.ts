import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3StoreConfig } from '../src/config.js';
import { call, createExperiment, DIALECTS, s3Env, useTestServer, useUser } from './harness.js';

const MiB = 1024 ** 2;
const CAP = 24 * MiB;
const ARTIFACTS = '/api/2.0/mlflow-artifacts/artifacts';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const big = (n: number, seed: number) => {
  const b = Buffer.alloc(n, seed);
  for (let i = 0; i < n; i += 1000) b[i] = (i / 1000 + seed) % 256;
  return b;
};

/** Both doors to a run's files (Tora's files API and MLflow's artifact proxy) with the bytes in a bucket. */
describe.each(DIALECTS)('files in an S3-compatible bucket on %s', (dialect) => {
  const server = useTestServer(dialect, () => ({ ...s3Env(), TORA_MAX_ARTIFACT_BYTES: String(CAP) }));
  const alice = useUser(server);
  let s3: S3Client;
  let port = 0;
  const store = () => server.config.artifactStore as S3StoreConfig;
  beforeAll(async () => {
    const config = store();
    s3 = new S3Client({
      endpoint: config.endpoint ?? undefined,
      region: config.region,
      forcePathStyle: true,
      credentials: { ...config.credentials! },
    });
    // Listening: a large upload goes over a real connection, streamed as a client sends it.
    port = Number(new URL(await server.app.listen({ port: 0, host: '127.0.0.1' })).port);
  });
  afterAll(() => s3.destroy());

  const objects = async (under: string) =>
    (await s3.send(new ListObjectsV2Command({ Bucket: store().bucket, Prefix: `${store().prefix}/${under}` }))).Contents ?? [];
  const openUploads = async () =>
    (await s3.send(new ListMultipartUploadsCommand({ Bucket: store().bucket, Prefix: `${store().prefix}/` }))).Uploads ?? [];
  const nothingOnDisk = () => {
    const dir = path.join(server.dataDir, 'artifacts');
    return !fs.existsSync(dir) || fs.readdirSync(dir).length === 0;
  };

  /** A PUT over HTTP whose body is sent in pieces; `cutAfter` bytes, then the connection is dropped. */
  const upload = (url: string, data: Buffer, cutAfter?: number) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          method: 'PUT',
          path: url,
          headers: { 'x-api-key': alice.key, 'content-type': 'application/octet-stream', 'content-length': data.length },
        },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', (err) => (cutAfter === undefined ? reject(err) : resolve({ status: 0, body: String(err) })));
      const end = cutAfter ?? data.length;
      let at = 0;
      const more = () => {
        while (at < end) {
          const piece = data.subarray(at, Math.min(end, at + 256 * 1024));
          at += piece.length;
          if (!req.write(piece)) return void req.once('drain', more);
        }
        if (cutAfter === undefined) req.end();
        else setTimeout(() => req.destroy(), 100);
      };
      more();
    });

  it('health names the S3 store', async () => {
    const res = await server.app.inject({ method: 'GET', url: '/api/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok', fileStore: 's3' });
  });

  it('the files API stores, lists, reads by range and deletes a run’s file as an object of the bucket', async () => {
    const id = await createExperiment(server.app, alice);
    const ws = alice.defaultWorkspaceId;
    const data = big(100_000, 3);
    const put = await server.app.inject({
      method: 'PUT',
      url: `/api/experiments/${id}/files/configs/weights.bin`,
      headers: { 'x-api-key': alice.key, 'content-type': 'application/octet-stream' },
      payload: data,
    });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json()).toMatchObject({ file: { path: 'configs/weights.bin', size: data.length, sha256: sha(data) } });
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: store().bucket, Key: `${store().prefix}/${ws}/${id}/artifacts/configs/weights.bin` }),
    );
    expect(head.ContentLength).toBe(data.length);
    expect(nothingOnDisk()).toBe(true);

    const listed = await call(server.app, alice, 'GET', `/api/experiments/${id}/files`);
    expect(listed.json<{ files: { path: string; size: number }[] }>().files.map((f) => [f.path, f.size])).toEqual([
      ['configs/weights.bin', data.length],
    ]);
    const ranged = await server.app.inject({
      method: 'GET',
      url: `/api/experiments/${id}/files/configs/weights.bin`,
      headers: { 'x-api-key': alice.key, range: 'bytes=1000-1999' },
    });
    expect(ranged.statusCode).toBe(206);
    expect(ranged.headers['content-range']).toBe(`bytes 1000-1999/${data.length}`);
    expect(ranged.rawPayload.equals(data.subarray(1000, 2000))).toBe(true);

    const del = await call(server.app, alice, 'DELETE', `/api/experiments/${id}/files/configs/weights.bin`);
    expect(del.statusCode).toBeLessThan(300);
    expect(await objects(`${ws}/${id}/`)).toEqual([]);
  });

  it('MLflow’s artifact proxy streams a multipart upload in and the same bytes out; deleting the run empties its prefix', async () => {
    const id = await createExperiment(server.app, alice);
    const ws = alice.defaultWorkspaceId;
    const data = big(20 * MiB + 123, 5);
    const root = `${ws}/${id}/artifacts`;
    const res = await upload(`${ARTIFACTS}/${root}/model/model.safetensors`, data);
    expect(res.status, res.body).toBe(200);
    const listed = await server.app.inject({
      method: 'GET',
      url: `${ARTIFACTS}?path=${encodeURIComponent(`${root}/model`)}`,
      headers: { 'x-api-key': alice.key },
    });
    expect(listed.json()).toEqual({ files: [{ path: 'model.safetensors', is_dir: false, file_size: data.length }] });
    const down = await server.app.inject({
      method: 'GET',
      url: `${ARTIFACTS}/${root}/model/model.safetensors`,
      headers: { 'x-api-key': alice.key },
    });
    expect(down.statusCode).toBe(200);
    expect(sha(down.rawPayload)).toBe(sha(data));
    expect(await openUploads()).toEqual([]);

    const deleted = await call(server.app, alice, 'DELETE', `/api/experiments/${id}`);
    expect(deleted.statusCode).toBeLessThan(300);
    expect(await objects(`${ws}/${id}/`)).toEqual([]);
  });

  it('a refused (too large) or cut upload stores nothing and leaves no open multipart upload', async () => {
    const id = await createExperiment(server.app, alice);
    const root = `${alice.defaultWorkspaceId}/${id}/artifacts`;
    const tooLarge = await upload(`${ARTIFACTS}/${root}/huge.bin`, big(CAP + MiB, 7));
    expect(tooLarge.status).toBe(413);
    const viaFiles = await upload(`/api/experiments/${id}/files/huge.bin`, big(CAP + MiB, 7));
    expect(viaFiles.status).toBe(413);
    expect((JSON.parse(viaFiles.body) as { error: { code: string } }).error.code).toBe('PAYLOAD_TOO_LARGE');
    const cut = await upload(`${ARTIFACTS}/${root}/cut.bin`, big(16 * MiB, 8), 10 * MiB);
    expect(cut.status).toBe(0);
    // The server notices the cut on its own time: wait for the abort.
    for (let i = 0; i < 50 && (await openUploads()).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await openUploads()).toEqual([]);
    expect(await objects(`${alice.defaultWorkspaceId}/${id}/`)).toEqual([]);
  });
});
