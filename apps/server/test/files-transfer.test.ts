import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DialectName } from '../src/db/dialect.js';
import {
  DIALECTS,
  call,
  createExperiment,
  freshStorage,
  signUp,
  startTestServer,
  storageEnv,
  tempDir,
  tora,
  type TestServer,
  type TestStorage,
  type TestUser,
  keyFor,
} from './harness.js';
import { pngImage } from './images.js';

const other = (d: DialectName): DialectName => (d === 'sqlite' ? 'postgres' : 'sqlite');
const toraOn = (storage: TestStorage, ...args: string[]) => tora(storageEnv(storage), ...args);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Bytes that differ at every offset, larger than two export chunks (1 MiB each). */
const BIG = Buffer.from(Array.from({ length: 2.5 * 1024 * 1024 }, (_, i) => (i * 7 + (i >> 11)) & 0xff));

describe.each(DIALECTS)('tora export/import carry a run’s files, from %s to the other dialect', (dialect) => {
  let source: TestServer;
  let alice: TestUser;
  let run = '';
  const tmp = tempDir('files-transfer-');

  beforeAll(async () => {
    source = await startTestServer(dialect);
    alice = await signUp(source.app, 'alice@example.com');
    run = await createExperiment(source.app, alice, { name: 'with files' });
    const put = (url: string, payload: Buffer | string) =>
      source.app.inject({
        method: 'PUT',
        url,
        headers: { 'x-api-key': alice.key, 'content-type': 'application/octet-stream' },
        payload,
      });
    await put(`/api/experiments/${run}/files/ckpt/model.bin`, BIG);
    await put(`/api/experiments/${run}/files/empty.txt`, '');
    await put(`/api/experiments/${run}/media/samples?step=4`, pngImage(6, 3));
    const mlflowImage = 'images/val~x+step+2+timestamp+1+g0000000-0000-0000-0000-000000000000.png';
    await put(
      `/api/2.0/mlflow-artifacts/artifacts/${alice.defaultWorkspaceId}/${run}/artifacts/${encodeURIComponent(mlflowImage)}`,
      pngImage(2, 2),
    );
  });

  afterAll(async () => {
    await source.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  async function view(server: { app: TestServer['app'] }, user: TestUser, id: string) {
    const files = (await call(server.app, user, 'GET', `/api/experiments/${id}/files`)).json<{
      files: Record<string, unknown>[];
    }>().files;
    // Once every image has its thumbnail: imported images get theirs when first listed (in the background).
    let media: { thumbnail: boolean }[] = [];
    for (let i = 0; i < 200; i++) {
      media = (await call(server.app, user, 'GET', `/api/experiments/${id}/media`)).json<{ media: { thumbnail: boolean }[] }>()
        .media;
      if (media.every((m) => m.thumbnail)) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const big = (await call(server.app, user, 'GET', `/api/experiments/${id}/files/ckpt/model.bin`)).rawPayload;
    return { files, media, bigSha: sha(big) };
  }

  it('moves every file byte for byte with its media index; a second import stores the same again', async () => {
    const file = path.join(tmp, `export-${dialect}.jsonl`);
    const storage = { dataDir: source.dataDir, databaseUrl: source.databaseUrl };
    const exported = await toraOn(storage, 'export', '--out', file);
    expect(exported.stderr).toContain('(0 points, 4 files)');
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    expect(JSON.parse(lines.at(-1)!)).toEqual({ type: 'end', experiments: 1, points: 0, files: 4 });
    // No line holds a whole large file.
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThan(1.5 * 1024 * 1024);

    const target = await freshStorage(other(dialect));
    const here = await startTestServer(other(dialect), {}, { storage: target });
    try {
      await toraOn(target, 'user', 'create', '--email', 'alice@example.com', '--password', 'correct horse battery');
      const first = await toraOn(target, 'import', file, '--email', 'alice@example.com');
      expect(first.stdout).toContain('and 4 files');
      const again = await toraOn(target, 'import', file, '--email', 'alice@example.com');
      expect(again.stdout).toContain('and 4 files');
      const bob = { ...alice, key: await keyFor(here, 'alice@example.com') };
      const before = await view(source, alice, run);
      expect(before.bigSha).toBe(sha(BIG));
      expect(before.media).toHaveLength(2);
      expect(await view(here, bob, run)).toEqual(before);
    } finally {
      await here.close();
    }
  });

  it('leaves the files out with --no-files', async () => {
    const file = path.join(tmp, `nofiles-${dialect}.jsonl`);
    await toraOn({ dataDir: source.dataDir, databaseUrl: source.databaseUrl }, 'export', '--no-files', '--out', file);
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.filter((l) => l.startsWith('{"type":"file'))).toEqual([]);
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ files: 0 });
  });

  it('refuses a file whose bytes do not match its SHA-256, keeping nothing of it', async () => {
    const file = path.join(tmp, `bad-${dialect}.jsonl`);
    await toraOn({ dataDir: source.dataDir, databaseUrl: source.databaseUrl }, 'export', '--experiment', run, '--out', file);
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    const at = lines.findIndex((l) => l.includes('"path":"empty.txt"'));
    lines[at] = lines[at]!.replace(/"sha256":"[0-9a-f]+"/, `"sha256":"${'0'.repeat(64)}"`);
    fs.writeFileSync(file, lines.join('\n'));
    const target = await freshStorage(other(dialect));
    const here = await startTestServer(other(dialect), {}, { storage: target });
    try {
      await toraOn(target, 'user', 'create', '--email', 'alice@example.com', '--password', 'correct horse battery');
      const failed = await toraOn(target, 'import', file, '--email', 'alice@example.com').catch((err: { stderr: string }) => err);
      expect('stderr' in failed && failed.stderr).toContain('empty.txt: its bytes do not match its size and SHA-256');
      const key = await keyFor(here, 'alice@example.com');
      const listed = (await call(here.app, { key }, 'GET', `/api/experiments/${run}/files`)).json<{
        files: { path: string }[];
      }>();
      expect(listed.files.map((f) => f.path)).not.toContain('empty.txt');
    } finally {
      await here.close();
    }
  });
});
