import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { createExperiment, createWorkspace, DIALECTS, useTestServer, useUser, type TestUser } from './harness.js';
import { jpegHeader, pngImage } from './images.js';

const ARTIFACTS = '/api/2.0/mlflow-artifacts/artifacts';

/** A real JPEG photo-sized image (a colour gradient), encoded by libvips. */
async function jpegImage(width: number, height: number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) raw.set([i % 256, (i >> 8) % 256, 128], i * 3);
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .jpeg()
    .toBuffer();
}

interface Media {
  path: string;
  step: number;
  thumbnail: boolean;
}

describe.each(DIALECTS)('thumbnails Tora makes of uploaded images on %s', (dialect) => {
  const server = useTestServer(dialect);
  const alice = useUser(server);
  const stranger = useUser(server);

  const auth = (user: TestUser) => ({ 'x-api-key': user.key });
  const put = (user: TestUser, url: string, payload: Buffer | string) =>
    server.app.inject({
      method: 'PUT',
      url,
      headers: { ...auth(user), 'content-type': 'application/octet-stream' },
      payload,
    });
  const get = (user: TestUser, url: string, headers: Record<string, string> = {}) =>
    server.app.inject({ method: 'GET', url, headers: { ...auth(user), ...headers } });
  const media = async (id: string) => (await get(alice, `/api/experiments/${id}/media`)).json<{ media: Media[] }>().media;

  /** The media listing once every image that will get a thumbnail has one (the work is in the background). */
  async function settled(id: string, expected: number): Promise<Media[]> {
    for (let i = 0; i < 200; i++) {
      const rows = await media(id);
      if (rows.filter((m) => m.thumbnail).length >= expected) return rows;
      await new Promise((r) => setTimeout(r, 25));
    }
    return media(id);
  }

  it('makes a WebP of at most 256 px a side for PNG and JPEG uploads, served as image/webp', async () => {
    const id = await createExperiment(server.app, alice);
    const upload = await put(alice, `/api/experiments/${id}/media/samples?step=1`, pngImage(1000, 500));
    // The upload answers before its thumbnail exists: it never waits for one.
    expect(upload.json()).toMatchObject({ media: { path: 'media/samples/1.png', thumbnail: false } });
    await put(alice, `/api/experiments/${id}/media/samples?step=2`, await jpegImage(640, 480));
    await put(alice, `/api/experiments/${id}/media/small?step=0`, pngImage(20, 10));

    const rows = await settled(id, 3);
    expect(rows.map((m) => [m.path, m.thumbnail])).toEqual([
      ['media/samples/1.png', true],
      ['media/samples/2.jpg', true],
      ['media/small/0.png', true],
    ]);
    const sizes: [number, number][] = [];
    for (const path of ['media/samples/1.png', 'media/samples/2.jpg', 'media/small/0.png']) {
      const res = await get(alice, `/api/experiments/${id}/thumbnails/${path}`);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('image/webp');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      const meta = await sharp(res.rawPayload).metadata();
      expect(meta.format).toBe('webp');
      sizes.push([meta.width, meta.height]);
      // Cached by the image's bytes.
      const again = await get(alice, `/api/experiments/${id}/thumbnails/${path}`, {
        'if-none-match': res.headers.etag as string,
      });
      expect(again.statusCode).toBe(304);
    }
    // Smaller than the original, aspect kept; a small image is never enlarged.
    expect(sizes).toEqual([
      [256, 128],
      [256, 192],
      [20, 10],
    ]);
  });

  it("makes thumbnails of MLflow's log_image files too, and of nothing that does not decode", async () => {
    const id = await createExperiment(server.app, alice);
    const ws = alice.defaultWorkspaceId;
    const name = `images/val~samples+step+4+timestamp+1733500000000+g0000000-aaaa-bbbb-cccc-4.png`;
    await put(alice, `${ARTIFACTS}/${ws}/${id}/artifacts/${encodeURIComponent(name)}`, pngImage(300, 300));
    // A JPEG header with no image after it: indexed as media, but it cannot be decoded.
    await put(alice, `/api/experiments/${id}/media/broken?step=0`, jpegHeader(640, 480));
    await put(alice, `/api/experiments/${id}/media/later?step=0`, pngImage(4, 4));
    // Jobs run in order: once the last one is done, the broken one has had its turn.
    const rows = await settled(id, 2);
    expect(rows.map((m) => [m.path, m.thumbnail])).toEqual([
      ['media/broken/0.jpg', false],
      ['media/later/0.png', true],
      [name, true],
    ]);
    expect((await get(alice, `/api/experiments/${id}/thumbnails/media/broken/0.jpg`)).statusCode).toBe(404);
    const thumb = await get(alice, `/api/experiments/${id}/thumbnails/${encodeURIComponent(name)}`);
    expect((await sharp(thumb.rawPayload).metadata()).width).toBe(256);
    // Not among the run's files (neither door lists it).
    const files = (await get(alice, `/api/experiments/${id}/files`)).json<{ files: { path: string }[] }>().files;
    expect(files.map((f) => f.path).sort()).toEqual([name, 'media/broken/0.jpg', 'media/later/0.png'].sort());
  });

  it('forgets a replaced image’s thumbnail and removes it with the file; strangers get 404', async () => {
    const ws = await createWorkspace(server.app, alice, `ws-${Math.random()}`);
    const id = await createExperiment(server.app, alice, { workspaceId: ws });
    await put(alice, `/api/experiments/${id}/media/k?step=0`, pngImage(600, 300));
    await settled(id, 1);
    const first = (await get(alice, `/api/experiments/${id}/thumbnails/media/k/0.png`)).rawPayload;
    expect((await get(stranger, `/api/experiments/${id}/thumbnails/media/k/0.png`)).statusCode).toBe(404);

    // Replaced by a taller image: the thumbnail shown is the new one's.
    await put(alice, `/api/experiments/${id}/media/k?step=0`, pngImage(300, 600, 7));
    const rows = await settled(id, 1);
    expect(rows).toHaveLength(1);
    const second = await get(alice, `/api/experiments/${id}/thumbnails/media/k/0.png`);
    expect(second.rawPayload.equals(first)).toBe(false);
    expect(await sharp(second.rawPayload).metadata()).toMatchObject({ width: 128, height: 256 });

    const del = await server.app.inject({
      method: 'DELETE',
      url: `/api/experiments/${id}/files/media/k/0.png`,
      headers: auth(alice),
    });
    expect(del.statusCode).toBe(200);
    expect((await get(alice, `/api/experiments/${id}/thumbnails/media/k/0.png`)).statusCode).toBe(404);
    // Re-uploading the same bytes after the delete makes a new thumbnail (none of the old one's left).
    await put(alice, `/api/experiments/${id}/media/k?step=0`, pngImage(300, 600, 7));
    expect((await settled(id, 1))[0]!.thumbnail).toBe(true);
  });
});
