import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { CreateMultipartUploadCommand, ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, type S3StoreConfig } from '../src/config.js';
import { blobStoreFor } from '../src/modules/artifacts/artifacts.blob-store.js';
import {
  ArtifactPathError,
  ArtifactTooLargeError,
  ArtifactUploadCutError,
  artifactStore,
} from '../src/modules/artifacts/artifacts.store.js';
import type { BlobStore } from '../src/lib/blob-store.js';
import { s3Env, tempDir } from './harness.js';

/**
 * The BlobStore contract, one table for every backend: the directory store and the S3 store
 * (against the run's SeaweedFS) must answer alike, so the routes above them cannot tell which holds
 * the bytes.
 */
interface Backend {
  store: BlobStore;
  /** Leaves what a crash mid-upload leaves (a temp part, an open multipart upload). */
  leavePart: () => Promise<void>;
  /** How many such parts are there now. */
  parts: () => Promise<number>;
}

const MiB = 1024 ** 2;

function directoryBackend(): Backend {
  const dataDir = tempDir('blobs-');
  const tmp = path.join(dataDir, 'artifacts-tmp');
  return {
    store: artifactStore({ dataDir }),
    async leavePart() {
      fs.mkdirSync(tmp, { recursive: true });
      fs.writeFileSync(path.join(tmp, `${randomUUID()}.part`), 'half');
    },
    async parts() {
      return fs.existsSync(tmp) ? fs.readdirSync(tmp).length : 0;
    },
  };
}

function s3Backend(): Backend {
  const loaded = loadConfig(s3Env());
  const config = loaded.artifactStore as S3StoreConfig;
  const client = new S3Client({
    endpoint: config.endpoint ?? undefined,
    region: config.region,
    forcePathStyle: true,
    credentials: { ...config.credentials! },
  });
  afterAll(() => client.destroy());
  const Bucket = config.bucket;
  return {
    // As the server makes it: the S3 module loaded on first use.
    store: blobStoreFor(loaded),
    async leavePart() {
      await client.send(new CreateMultipartUploadCommand({ Bucket, Key: `${config.prefix}/ws/run/crashed.bin` }));
    },
    async parts() {
      const res = await client.send(new ListMultipartUploadsCommand({ Bucket, Prefix: `${config.prefix}/` }));
      return res.Uploads?.length ?? 0;
    },
  };
}

const BACKENDS: [string, () => Backend][] = [
  ['the directory store', directoryBackend],
  ['the S3 store (SeaweedFS)', s3Backend],
];

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const bytes = (n: number, seed = 1) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed * 17) % 251));
/** Large payloads without a per-byte array (fast to make). */
const big = (n: number, seed: number) => {
  const b = Buffer.alloc(n, seed % 256);
  for (let i = 0; i < n; i += 4096) b[i] = (i / 4096 + seed) % 256;
  return b;
};

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A body that sends `head` and then goes away, as a client whose connection drops does. */
function cutBody(head: Buffer): Readable {
  const body = new Readable({ read() {} });
  body.push(head);
  setTimeout(() => body.destroy(), 50);
  return body;
}

describe.each(BACKENDS)('BlobStore contract: %s', (_name, make) => {
  const { store, leavePart, parts } = make();
  afterAll(() => store.close());
  let n = 0;
  /** A fresh run's key prefix for each test. */
  const run = () => ['ws', `run${++n}`];
  const write = (key: string[], body: Buffer | Readable, maxBytes = 64 * MiB, stillWanted?: () => Promise<void>) =>
    store.write(key, Buffer.isBuffer(body) ? Readable.from([body]) : body, { maxBytes, stillWanted });
  const content = async (key: string[]) => {
    const opened = await store.open(key);
    return opened === null ? null : readAll(opened.stream);
  };

  it('writes a file and reads it back whole, by range and by stat, with its size and SHA-256', async () => {
    const key = [...run(), 'artifacts', 'model', 'weights.bin'];
    const data = bytes(3000);
    expect(await write(key, data)).toEqual({ size: 3000, sha256: sha(data) });
    const opened = await store.open(key);
    expect(opened?.size).toBe(3000);
    expect((await readAll(opened!.stream)).equals(data)).toBe(true);
    const ranged = await store.open(key, { start: 100, end: 199 });
    expect(ranged?.size).toBe(3000);
    expect((await readAll(ranged!.stream)).equals(data.subarray(100, 200))).toBe(true);
    const last = await store.open(key, { start: 2999, end: 2999 });
    expect((await readAll(last!.stream)).equals(data.subarray(2999))).toBe(true);
    const stat = await store.stat(key);
    expect(stat?.size).toBe(3000);
    expect(Math.abs(stat!.modifiedAt - Date.now())).toBeLessThan(60_000);
  });

  it('writes an empty file, and a file of several parts streamed in pieces', async () => {
    const [ws, r] = run();
    expect(await write([ws!, r!, 'empty'], Buffer.alloc(0))).toEqual({ size: 0, sha256: sha(Buffer.alloc(0)) });
    expect((await content([ws!, r!, 'empty']))?.length).toBe(0);
    const data = big(19 * MiB + 5, 3);
    const pieces = Readable.from(
      (function* () {
        for (let i = 0; i < data.length; i += 64 * 1024) yield data.subarray(i, i + 64 * 1024);
      })(),
    );
    expect(await write([ws!, r!, 'large.bin'], pieces)).toEqual({ size: data.length, sha256: sha(data) });
    expect((await content([ws!, r!, 'large.bin']))?.equals(data)).toBe(true);
    const ranged = await store.open([ws!, r!, 'large.bin'], { start: 8 * MiB - 10, end: 16 * MiB + 10 });
    expect((await readAll(ranged!.stream)).equals(data.subarray(8 * MiB - 10, 16 * MiB + 11))).toBe(true);
  });

  it('answers null for nothing there and for a directory, and overwrites a file whole', async () => {
    const [ws, r] = run();
    expect(await store.open([ws!, r!, 'missing'])).toBeNull();
    expect(await store.stat([ws!, r!, 'missing'])).toBeNull();
    expect(await store.open([ws!, r!, 'missing'], { start: 0, end: 1 })).toBeNull();
    await write([ws!, r!, 'dir', 'file'], bytes(10));
    expect(await store.open([ws!, r!, 'dir'])).toBeNull();
    expect(await store.stat([ws!, r!, 'dir'])).toBeNull();
    await write([ws!, r!, 'dir', 'file'], bytes(5, 2));
    expect((await content([ws!, r!, 'dir', 'file']))?.equals(bytes(5, 2))).toBe(true);
  });

  it('lists a directory sorted by name, files with their sizes; a file or nothing lists empty', async () => {
    const [ws, r] = run();
    await write([ws!, r!, 'b.txt'], bytes(7));
    await write([ws!, r!, 'a', 'x.bin'], bytes(3));
    await write([ws!, r!, 'a', 'sub', 'y'], bytes(1));
    await write([ws!, r!, 'c'], bytes(0));
    expect(await store.list([ws!, r!])).toEqual([
      { name: 'a', isDir: true },
      { name: 'b.txt', isDir: false, size: 7 },
      { name: 'c', isDir: false, size: 0 },
    ]);
    expect(await store.list([ws!, r!, 'a'])).toEqual([
      { name: 'sub', isDir: true },
      { name: 'x.bin', isDir: false, size: 3 },
    ]);
    expect(await store.list([ws!, r!, 'b.txt'])).toEqual([]);
    expect(await store.list([ws!, r!, 'nothing'])).toEqual([]);
  });

  it('sums usage under a key, removes a file or a whole directory, and nothing there is fine', async () => {
    const [ws, r] = run();
    await write([ws!, r!, 'a', 'x'], bytes(100));
    await write([ws!, r!, 'a', 'deep', 'y'], bytes(50));
    await write([ws!, r!, 'z'], bytes(7));
    expect(await store.usage([ws!, r!])).toBe(157);
    expect(await store.usage([ws!, r!, 'a'])).toBe(150);
    expect(await store.usage([ws!, r!, 'z'])).toBe(7);
    expect(await store.usage([ws!, r!, 'nothing'])).toBe(0);
    await store.remove([ws!, r!, 'z']);
    expect(await store.stat([ws!, r!, 'z'])).toBeNull();
    await store.remove([ws!, r!, 'a']);
    expect(await store.list([ws!, r!])).toEqual([]);
    expect(await store.usage([ws!, r!])).toBe(0);
    await store.remove([ws!, r!, 'never-was']);
  });

  it('refuses a key that names a directory as a file or goes through a file, and bad segments', async () => {
    const [ws, r] = run();
    await write([ws!, r!, 'd', 'f'], bytes(3));
    await expect(write([ws!, r!, 'd'], bytes(3))).rejects.toThrow(ArtifactPathError);
    await expect(write([ws!, r!, 'd', 'f', 'g'], bytes(3))).rejects.toThrow(ArtifactPathError);
    await expect(write([ws!, r!, '..', 'x'], bytes(3))).rejects.toThrow(ArtifactPathError);
    await expect(store.open([ws!, '..', 'x'])).rejects.toThrow(ArtifactPathError);
    await expect(write([], bytes(3))).rejects.toThrow(ArtifactPathError);
    expect((await content([ws!, r!, 'd', 'f']))?.equals(bytes(3))).toBe(true);
  });

  it('refuses a file over the limit (one part or several) and keeps what was there, leaving no part', async () => {
    const [ws, r] = run();
    await write([ws!, r!, 'f'], bytes(10));
    await expect(write([ws!, r!, 'f'], bytes(11, 2), 10)).rejects.toThrow(ArtifactTooLargeError);
    await expect(write([ws!, r!, 'f'], big(10 * MiB, 4), 9 * MiB)).rejects.toThrow(ArtifactTooLargeError);
    expect((await content([ws!, r!, 'f']))?.equals(bytes(10))).toBe(true);
    await expect(write([ws!, r!, 'new'], big(10 * MiB, 4), 9 * MiB)).rejects.toThrow(ArtifactTooLargeError);
    expect(await store.stat([ws!, r!, 'new'])).toBeNull();
    expect(await parts()).toBe(0);
  });

  it('a cut upload (before or after its first part) leaves what was there before and no part', async () => {
    const [ws, r] = run();
    await write([ws!, r!, 'f'], bytes(10));
    await expect(write([ws!, r!, 'f'], cutBody(bytes(1000, 5)))).rejects.toThrow(ArtifactUploadCutError);
    await expect(write([ws!, r!, 'f'], cutBody(big(9 * MiB, 6)))).rejects.toThrow(ArtifactUploadCutError);
    expect((await content([ws!, r!, 'f']))?.equals(bytes(10))).toBe(true);
    await expect(write([ws!, r!, 'g'], cutBody(big(9 * MiB, 6)))).rejects.toThrow(ArtifactUploadCutError);
    expect(await store.stat([ws!, r!, 'g'])).toBeNull();
    expect(await parts()).toBe(0);
  });

  it('a body already gone when the store is ready (the client left during its checks) fails, never hangs', async () => {
    const [ws, r] = run();
    const body = new Readable({ read() {} });
    body.push(bytes(100));
    body.destroy();
    await expect(write([ws!, r!, 'gone'], body)).rejects.toThrow(ArtifactUploadCutError);
    expect(await store.stat([ws!, r!, 'gone'])).toBeNull();
    expect(await parts()).toBe(0);
  });

  it('an upload no longer wanted (before or after it is in place) leaves nothing', async () => {
    const [ws, r] = run();
    const gone = async () => {
      throw new Error('the run was deleted');
    };
    await expect(write([ws!, r!, 'small'], bytes(10), 64 * MiB, gone)).rejects.toThrow('the run was deleted');
    await expect(write([ws!, r!, 'large'], big(9 * MiB, 7), 64 * MiB, gone)).rejects.toThrow('the run was deleted');
    let calls = 0;
    const goneAfter = async () => {
      if (++calls === 2) throw new Error('deleted meanwhile');
    };
    await expect(write([ws!, r!, 'late'], bytes(10), 64 * MiB, goneAfter)).rejects.toThrow('deleted meanwhile');
    expect(await store.list([ws!, r!])).toEqual([]);
    expect(await parts()).toBe(0);
  });

  it('concurrent uploads: each file whole, and one writer of a shared name wins whole', async () => {
    const [ws, r] = run();
    const datas = [1, 2, 3, 4].map((seed) => big(9 * MiB + seed, seed));
    const results = await Promise.all([
      ...datas.map((d, i) => write([ws!, r!, `own-${i}`], d)),
      ...datas.map((d) => write([ws!, r!, 'shared'], d)),
    ]);
    expect(results.map((x) => x.size)).toEqual([...datas, ...datas].map((d) => d.length));
    for (const [i, d] of datas.entries()) expect((await content([ws!, r!, `own-${i}`]))?.equals(d)).toBe(true);
    const shared = await content([ws!, r!, 'shared']);
    expect(datas.some((d) => shared?.equals(d))).toBe(true);
    expect(await parts()).toBe(0);
  });

  it('sweeps the parts a crash left once they are older than asked, and only then', async () => {
    await leavePart();
    expect(await parts()).toBe(1);
    expect(await store.sweepParts(Date.now() - 3_600_000)).toBe(0);
    expect(await parts()).toBe(1);
    expect(await store.sweepParts(Date.now() + 5_000)).toBe(1);
    expect(await parts()).toBe(0);
  });

  it('answers its health check', async () => {
    await expect(store.check()).resolves.toBeUndefined();
  });
});

describe('the directory store', () => {
  it('leaves no part behind a body refused at its first bytes, however often (the part exists before the body flows)', async () => {
    const dataDir = tempDir('blobs-');
    const store = artifactStore({ dataDir });
    // Before the fix a few in a thousand of these left a part: the stream's own open came after the
    // refusal and created the part after the store had removed it.
    for (let i = 0; i < 1000; i++) {
      await expect(store.write(['ws', 'run', 'over'], Readable.from([bytes(100, i)]), { maxBytes: 10 })).rejects.toThrow(
        ArtifactTooLargeError,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200)); // a late open would have created its part by now
    expect(fs.readdirSync(path.join(dataDir, 'artifacts-tmp'))).toEqual([]);
    store.close();
  });
});
