import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Static } from '@sinclair/typebox';
import type { LightMyRequestResponse } from 'fastify';
import { describe, expect, it } from 'vitest';
import {
  addMember,
  call,
  createExperiment,
  createWorkspace,
  DIALECTS,
  errorCode,
  ORIGIN,
  useTestServer,
  useUser,
  type TestUser,
} from './harness.js';
import type { FileList, MediaList } from '../src/modules/files/files.schemas.js';
import { gifHeader, jpegHeader, pngImage } from './images.js';
import { declaredBody } from './route-schemas.js';

const CAP = 64 * 1024;
const ARTIFACTS = '/api/2.0/mlflow-artifacts/artifacts';
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe.each(DIALECTS)('a run’s files and media on %s', (dialect) => {
  const server = useTestServer(dialect, { TORA_MAX_ARTIFACT_BYTES: String(CAP) });
  const alice = useUser(server);
  const viewer = useUser(server);
  const editor = useUser(server);
  const stranger = useUser(server);

  const auth = (user: TestUser) => ({ 'x-api-key': user.key });
  const put = (user: TestUser, url: string, payload: string | Buffer, headers: Record<string, string> = {}) =>
    server.app.inject({
      method: 'PUT',
      url,
      headers: { ...auth(user), 'content-type': 'application/octet-stream', ...headers },
      payload,
    });
  const get = (user: TestUser, url: string, headers: Record<string, string> = {}) =>
    server.app.inject({ method: 'GET', url, headers: { ...auth(user), ...headers } });
  const files = async (user: TestUser, id: string, query = '') =>
    declaredBody<Static<typeof FileList>>(
      server.app,
      await get(user, `/api/experiments/${id}/files${query}`),
      'GET /api/experiments/{id}/files',
    ).files;
  /** The media listing, checked against the route's schema. */
  const media = async (user: TestUser, id: string, query = '') =>
    declaredBody<Static<typeof MediaList>>(
      server.app,
      await get(user, `/api/experiments/${id}/media${query}`),
      'GET /api/experiments/{id}/media',
    ).media;

  /** An experiment in a workspace of alice's where `viewer` views and `editor` edits. */
  async function sharedRun(): Promise<string> {
    const ws = await createWorkspace(server.app, alice, `ws-${Math.random()}`);
    await addMember(server.app, alice, ws, viewer, 'viewer');
    await addMember(server.app, alice, ws, editor, 'editor');
    return createExperiment(server.app, alice, { workspaceId: ws });
  }

  it('stores, lists, downloads and deletes a file, recording its size, SHA-256 and type', async () => {
    const id = await sharedRun();
    const res = await put(alice, `/api/experiments/${id}/files/configs/run.yaml`, 'lr: 0.1\n');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      file: {
        path: 'configs/run.yaml',
        size: 8,
        sha256: sha('lr: 0.1\n'),
        contentType: 'application/yaml',
        updatedAt: expect.any(String),
      },
    });
    await put(alice, `/api/experiments/${id}/files/notes.txt`, 'hello');
    expect((await files(alice, id)).map((f) => [f.path, f.size])).toEqual([
      ['configs/run.yaml', 8],
      ['notes.txt', 5],
    ]);
    expect((await files(alice, id, '?prefix=configs/')).map((f) => f.path)).toEqual(['configs/run.yaml']);
    expect((await files(alice, id, '?after=configs/run.yaml')).map((f) => f.path)).toEqual(['notes.txt']);

    const dl = await get(alice, `/api/experiments/${id}/files/configs/run.yaml`);
    expect(dl.statusCode).toBe(200);
    expect(dl.body).toBe('lr: 0.1\n');
    expect(dl.headers['content-type']).toBe('application/yaml; charset=utf-8');
    expect(dl.headers['content-disposition']).toBe("attachment; filename*=UTF-8''run.yaml");
    expect(dl.headers['x-content-type-options']).toBe('nosniff');
    expect(dl.headers.etag).toBe(`"${sha('lr: 0.1\n')}"`);

    expect(
      (await server.app.inject({ method: 'DELETE', url: `/api/experiments/${id}/files/configs`, headers: auth(alice) }))
        .statusCode,
    ).toBe(200);
    expect((await files(alice, id)).map((f) => f.path)).toEqual(['notes.txt']);
    const gone = await get(alice, `/api/experiments/${id}/files/configs/run.yaml`);
    expect([gone.statusCode, errorCode(gone)]).toEqual([404, 'FILE_NOT_FOUND']);
    const again = await server.app.inject({
      method: 'DELETE',
      url: `/api/experiments/${id}/files/configs`,
      headers: auth(alice),
    });
    expect([again.statusCode, errorCode(again)]).toEqual([404, 'FILE_NOT_FOUND']);
  });

  it('replaces a file at the same path, and its SHA-256 with it', async () => {
    const id = await createExperiment(server.app, alice);
    await put(alice, `/api/experiments/${id}/files/a.bin`, 'one');
    await put(alice, `/api/experiments/${id}/files/a.bin`, 'two!');
    expect(await files(alice, id)).toMatchObject([{ path: 'a.bin', size: 4, sha256: sha('two!') }]);
    expect((await get(alice, `/api/experiments/${id}/files/a.bin`)).body).toBe('two!');
  });

  it('answers a Range with 206 and the bytes asked, past the end with 416, and a matching ETag with 304', async () => {
    const id = await createExperiment(server.app, alice);
    const body = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
    await put(alice, `/api/experiments/${id}/files/data.bin`, body);
    const part = await get(alice, `/api/experiments/${id}/files/data.bin`, { range: 'bytes=100-199' });
    expect(part.statusCode).toBe(206);
    expect(part.headers['content-range']).toBe('bytes 100-199/1000');
    expect(part.rawPayload.equals(body.subarray(100, 200))).toBe(true);
    const tail = await get(alice, `/api/experiments/${id}/files/data.bin`, { range: 'bytes=-10' });
    expect(tail.rawPayload.equals(body.subarray(990))).toBe(true);
    const past = await get(alice, `/api/experiments/${id}/files/data.bin`, { range: 'bytes=1000-' });
    expect([past.statusCode, errorCode(past)]).toEqual([416, 'RANGE_NOT_SATISFIABLE']);
    expect(past.headers['content-range']).toBe('bytes */1000');
    const etag = `"${sha(body)}"`;
    expect((await get(alice, `/api/experiments/${id}/files/data.bin`, { 'if-none-match': etag })).statusCode).toBe(304);
    // If-Range with another tag: the file changed since, so the whole of it.
    const stale = await get(alice, `/api/experiments/${id}/files/data.bin`, { range: 'bytes=0-9', 'if-range': '"other"' });
    expect([stale.statusCode, stale.rawPayload.length]).toEqual([200, 1000]);
    const fresh = await get(alice, `/api/experiments/${id}/files/data.bin`, { range: 'bytes=0-9', 'if-range': etag });
    expect([fresh.statusCode, fresh.rawPayload.length]).toEqual([206, 10]);
  });

  it('never serves an upload as HTML, SVG or script', async () => {
    const id = await createExperiment(server.app, alice);
    for (const name of ['page.html', 'pic.svg', 'x.js', 'noext']) {
      await put(alice, `/api/experiments/${id}/files/${name}`, '<script>alert(1)</script>', { 'content-type': 'text/html' });
      const res = await get(alice, `/api/experiments/${id}/files/${name}`);
      expect(res.headers['content-type']).toBe('application/octet-stream');
      expect(res.headers['content-disposition']).toMatch(/^attachment/);
    }
    expect((await files(alice, id)).find((f) => f.path === 'pic.svg')?.contentType).toBe('image/svg+xml');
  });

  it('refuses a file over the limit (declared or streamed) and unsafe paths, keeping what was there', async () => {
    const id = await createExperiment(server.app, alice);
    await put(alice, `/api/experiments/${id}/files/big.bin`, 'kept');
    const over = await put(alice, `/api/experiments/${id}/files/big.bin`, Buffer.alloc(CAP + 1));
    expect([over.statusCode, errorCode(over)]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expect((await get(alice, `/api/experiments/${id}/files/big.bin`)).body).toBe('kept');
    expect(await files(alice, id)).toMatchObject([{ path: 'big.bin', size: 4 }]);
    // Streamed without a declared length: refused once past the limit.
    const streamed = await server.app.inject({
      method: 'PUT',
      url: `/api/experiments/${id}/files/big.bin`,
      headers: { ...auth(alice), 'content-type': 'application/octet-stream' },
      payload: Readable.from([Buffer.alloc(CAP), Buffer.alloc(10)]),
    });
    expect([streamed.statusCode, errorCode(streamed)]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expect((await get(alice, `/api/experiments/${id}/files/big.bin`)).body).toBe('kept');
    for (const bad of ['a/..%2Fb', 'a//b', 'a%5Cb', 'a%00b']) {
      const res = await put(alice, `/api/experiments/${id}/files/${bad}`, 'x');
      expect([res.statusCode, errorCode(res)], bad).toEqual([400, 'VALIDATION_ERROR']);
    }
    expect((await files(alice, id)).map((f) => f.path)).toEqual(['big.bin']);
  });

  it('lets viewers read, editors write, and hides the run from non-members', async () => {
    const id = await sharedRun();
    expect((await put(editor, `/api/experiments/${id}/files/e.txt`, 'e')).statusCode).toBe(200);
    const refused = await put(viewer, `/api/experiments/${id}/files/v.txt`, 'v');
    expect(refused.statusCode).toBe(403);
    expect((await get(viewer, `/api/experiments/${id}/files/e.txt`)).body).toBe('e');
    expect((await files(viewer, id)).map((f) => f.path)).toEqual(['e.txt']);
    const del = await server.app.inject({ method: 'DELETE', url: `/api/experiments/${id}/files/e.txt`, headers: auth(viewer) });
    expect(del.statusCode).toBe(403);
    for (const res of [
      await get(stranger, `/api/experiments/${id}/files/e.txt`),
      await get(stranger, `/api/experiments/${id}/files`),
      await get(stranger, `/api/experiments/${id}/media`),
      await put(stranger, `/api/experiments/${id}/files/s.txt`, 's'),
      await put(stranger, `/api/experiments/${id}/media/k?step=1`, pngImage(2, 2)),
      await server.app.inject({ method: 'DELETE', url: `/api/experiments/${id}/files/e.txt`, headers: auth(stranger) }),
    ]) {
      expect([res.statusCode, errorCode(res)]).toEqual([404, 'EXPERIMENT_NOT_FOUND']);
    }
    expect((await files(alice, id)).map((f) => f.path)).toEqual(['e.txt']);
  });

  it('refuses a read-only API key’s uploads and deletes, and lets it read', async () => {
    const id = await createExperiment(server.app, alice);
    await put(alice, `/api/experiments/${id}/files/a.txt`, 'a');
    const made = await server.app.inject({
      method: 'POST',
      url: '/api/keys',
      headers: { cookie: alice.cookie, origin: ORIGIN },
      payload: { name: 'ro', scope: 'read' },
    });
    const reader = { ...alice, key: made.json<{ key: string }>().key };
    expect((await put(reader, `/api/experiments/${id}/files/b.txt`, 'b')).statusCode).toBe(403);
    expect((await put(reader, `/api/experiments/${id}/media/k?step=1`, pngImage(2, 2))).statusCode).toBe(403);
    const del = await server.app.inject({ method: 'DELETE', url: `/api/experiments/${id}/files/a.txt`, headers: auth(reader) });
    expect(del.statusCode).toBe(403);
    expect((await get(reader, `/api/experiments/${id}/files/a.txt`)).body).toBe('a');
    expect((await files(alice, id)).map((f) => f.path)).toEqual(['a.txt']);
  });

  it('stores images as media by key and step, read back by step range', async () => {
    const id = await createExperiment(server.app, alice);
    for (const step of [0, 5, 10]) {
      const res = await put(alice, `/api/experiments/${id}/media/val/samples?step=${step}`, pngImage(8, 6, step));
      expect(res.statusCode).toBe(200);
    }
    await put(alice, `/api/experiments/${id}/media/photo?step=1`, jpegHeader(640, 480));
    await put(alice, `/api/experiments/${id}/media/anim?step=2`, gifHeader(3, 4));
    const all = await media(alice, id);
    expect(all.map((m) => [m.name, m.step, m.contentType, m.width, m.height])).toEqual([
      ['anim', 2, 'image/gif', 3, 4],
      ['photo', 1, 'image/jpeg', 640, 480],
      ['val/samples', 0, 'image/png', 8, 6],
      ['val/samples', 5, 'image/png', 8, 6],
      ['val/samples', 10, 'image/png', 8, 6],
    ]);
    const some = await media(alice, id, '?name=val/samples&from=1&to=10');
    expect(some.map((m) => [m.step, m.path])).toEqual([
      [5, 'val/samples'.replace(/^/, 'media/') + '/5.png'],
      [10, 'media/val/samples/10.png'],
    ]);
    // The image is one of the run's files too.
    const image = await get(alice, `/api/experiments/${id}/files/media/val/samples/5.png`);
    expect(image.headers['content-type']).toBe('image/png');
    expect(image.rawPayload.equals(pngImage(8, 6, 5))).toBe(true);
    expect(some[0]!.size).toBe(pngImage(8, 6, 5).length);
  });

  it('puts an image without a step one past the key’s highest, and replaces one at the same step', async () => {
    const id = await createExperiment(server.app, alice);
    const first = await put(alice, `/api/experiments/${id}/media/k`, pngImage(2, 2));
    expect(first.json()).toMatchObject({ media: { name: 'k', step: 0 } });
    await put(alice, `/api/experiments/${id}/media/k?step=7`, pngImage(2, 2));
    expect((await put(alice, `/api/experiments/${id}/media/k`, pngImage(2, 2))).json()).toMatchObject({ media: { step: 8 } });
    // The same step again, as a JPEG: the PNG there goes.
    await put(alice, `/api/experiments/${id}/media/k?step=7`, jpegHeader(5, 5));
    const at7 = await media(alice, id, '?name=k&from=7&to=7');
    expect(at7.map((m) => m.path)).toEqual(['media/k/7.jpg']);
    expect((await files(alice, id, '?prefix=media/k/7')).map((f) => f.path)).toEqual(['media/k/7.jpg']);
  });

  it('refuses media that is not a PNG, JPEG, WebP or GIF, writing nothing', async () => {
    const id = await createExperiment(server.app, alice);
    for (const body of ['<svg xmlns="http://www.w3.org/2000/svg"/>', '<html></html>', '']) {
      const res = await put(alice, `/api/experiments/${id}/media/k?step=1`, body);
      expect([res.statusCode, errorCode(res)]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    }
    const neg = await put(alice, `/api/experiments/${id}/media/k?step=-1`, pngImage(2, 2));
    expect([neg.statusCode, errorCode(neg)]).toEqual([400, 'VALIDATION_ERROR']);
    expect(await files(alice, id)).toEqual([]);
    expect((await get(alice, `/api/experiments/${id}/media`)).json()).toEqual({ media: [] });
  });

  it('is one set of files with MLflow’s artifact routes, both ways', async () => {
    const id = await createExperiment(server.app, alice);
    const ws = alice.defaultWorkspaceId;
    expect((await put(alice, `${ARTIFACTS}/${ws}/${id}/artifacts/model/weights.bin`, 'w8')).statusCode).toBe(200);
    await put(alice, `/api/experiments/${id}/files/plots/curve.png`, pngImage(4, 4));
    expect(await files(alice, id)).toMatchObject([
      { path: 'model/weights.bin', size: 2, sha256: sha('w8') },
      { path: 'plots/curve.png', contentType: 'image/png' },
    ]);
    const viaMlflow = await get(alice, `${ARTIFACTS}/${ws}/${id}/artifacts/plots/curve.png`);
    expect(viaMlflow.rawPayload.equals(pngImage(4, 4))).toBe(true);
    expect(viaMlflow.headers.etag).toBe(`"${sha(pngImage(4, 4))}"`);
    const ranged = await get(alice, `${ARTIFACTS}/${ws}/${id}/artifacts/model/weights.bin`, { range: 'bytes=1-' });
    expect([ranged.statusCode, ranged.body]).toEqual([206, '8']);
    const listed = (await get(alice, `${ARTIFACTS}?path=${ws}/${id}/artifacts/plots`)).json();
    expect(listed).toEqual({ files: [{ path: 'curve.png', is_dir: false, file_size: pngImage(4, 4).length }] });
    expect(
      (await server.app.inject({ method: 'DELETE', url: `${ARTIFACTS}/${ws}/${id}/artifacts/model`, headers: auth(alice) }))
        .statusCode,
    ).toBe(200);
    expect((await files(alice, id)).map((f) => f.path)).toEqual(['plots/curve.png']);
  });

  it("indexes MLflow's log_image(key=, step=) files as media, with the compressed copy as thumbnail", async () => {
    const id = await createExperiment(server.app, alice);
    const ws = alice.defaultWorkspaceId;
    const base = (step: number) => `images/val~samples+step+${step}+timestamp+1733500000000+g0000000-aaaa-bbbb-cccc-${step}`;
    // MLflow's async logging sends an image and its compressed copy at once, in either order.
    for (const step of [3, 1]) {
      await Promise.all([
        put(alice, `${ARTIFACTS}/${ws}/${id}/artifacts/${encodeURIComponent(`${base(step)}+compressed.webp`)}`, 'webp bytes'),
        put(alice, `${ARTIFACTS}/${ws}/${id}/artifacts/${encodeURIComponent(`${base(step)}.png`)}`, pngImage(10, 20)),
      ]);
    }
    // A file named like one that is not an image stays a file only.
    await put(alice, `${ARTIFACTS}/${ws}/${id}/artifacts/${encodeURIComponent(`${base(9)}.png`)}`, 'not a png');
    const samples = await media(alice, id, '?name=val/samples');
    expect(samples).toEqual(
      [1, 3].map((step) => ({
        name: 'val/samples',
        step,
        path: `${base(step)}.png`,
        contentType: 'image/png',
        width: 10,
        height: 20,
        size: pngImage(10, 20).length,
        thumbnailPath: `${base(step)}+compressed.webp`,
        // Tora's own, made in the background (thumbnails.api.test.ts).
        thumbnail: expect.any(Boolean),
      })),
    );
    expect((await files(alice, id, '?prefix=images/')).length).toBe(5);
    // Deleting the image through either door takes its media row with it.
    await server.app.inject({
      method: 'DELETE',
      url: `/api/experiments/${id}/files/${encodeURIComponent(`${base(1)}.png`)}`,
      headers: auth(alice),
    });
    expect((await media(alice, id)).map((m) => m.step)).toEqual([3]);
  });

  it('removes the files of a deleted experiment and of a deleted workspace', async () => {
    const ws = await createWorkspace(server.app, alice, 'doomed');
    const a = await createExperiment(server.app, alice, { workspaceId: ws });
    const b = await createExperiment(server.app, alice, { workspaceId: ws });
    await put(alice, `/api/experiments/${a}/files/x.txt`, 'x');
    await put(alice, `/api/experiments/${b}/media/k?step=1`, pngImage(2, 2));
    expect((await call(server.app, alice, 'DELETE', `/api/experiments/${a}`)).statusCode).toBe(200);
    const rows = async (table: 'experiment_files' | 'experiment_media', id: string) =>
      (await server.database.db.selectFrom(table).select('path').where('experiment_id', '=', id).execute()).length;
    expect(await rows('experiment_files', a)).toBe(0);
    expect(await get(alice, `${ARTIFACTS}?path=${ws}/${a}/artifacts`).then((r) => r.statusCode)).toBe(404);
    expect(await listBlob(ws, a)).toEqual([]);
    expect(await rows('experiment_media', b)).toBe(1);
    expect((await call(server.app, alice, 'DELETE', `/api/workspaces/${ws}`)).statusCode).toBe(200);
    expect(await rows('experiment_files', b)).toBe(0);
    expect(await rows('experiment_media', b)).toBe(0);
    expect(await listBlob(ws, b)).toEqual([]);
  });

  /** What the blob store holds under a run, asked through its interface. */
  async function listBlob(ws: string, run: string): Promise<unknown[]> {
    const { artifactStore } = await import('../src/modules/artifacts/artifacts.store.js');
    return artifactStore(server.config).list([ws, run]);
  }

  it('answers a response shape the schema declares', async () => {
    const id = await createExperiment(server.app, alice);
    const res: LightMyRequestResponse = await get(alice, `/api/experiments/${id}/files?bogus=1`);
    expect([res.statusCode, errorCode(res)]).toEqual([400, 'VALIDATION_ERROR']);
  });
});
