import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
  type _Object,
} from '@aws-sdk/client-s3';
import type { S3StoreConfig } from '../../config.js';
import { meteredBody } from './artifacts.meter.js';
import type { ArtifactEntry, BlobStore } from '../../lib/blob-store.js';
import { ArtifactPathError, artifactSegments } from './artifacts.store.js';

/** S3's smallest part but the last; larger parts are used only where 10,000 of these would not hold `maxBytes`. */
const MIN_PART_BYTES = 8 * 1024 ** 2;
const MAX_PART_BYTES = 5 * 1024 ** 3;
const MAX_PARTS = 10_000;
/** How long the health check waits for the bucket. */
const CHECK_TIMEOUT_MS = 3_000;

/**
 * The S3-compatible backend: each file is one object at `<prefix>/<key>`, directories are the
 * `/`-separated prefixes of object names. An upload is streamed as a multipart upload (at most two
 * parts in memory: one sent, one filling) and becomes visible only when completed, after
 * `stillWanted`; a cut, refused or failed upload is aborted, so readers only ever see whole files
 * (the previous one until then). Small files (under one part) are one PutObject. Multipart uploads
 * a crash left open are what `sweepParts` aborts. Not lib-storage's `Upload`: it completes the
 * upload itself, with no point to re-check `stillWanted` before the file becomes visible.
 *
 * @example
 *   const store = s3Store({ kind: 's3', bucket: 'tora', prefix: 'files', endpoint: 'http://127.0.0.1:8333',
 *     region: 'us-east-1', forcePathStyle: true, credentials: null });
 */
export function s3Store(config: S3StoreConfig): BlobStore {
  const client = new S3Client({
    region: config.region,
    endpoint: config.endpoint ?? undefined,
    forcePathStyle: config.forcePathStyle,
    // A copy: the SDK marks the object it is given (config objects are frozen).
    credentials: config.credentials ? { ...config.credentials } : undefined,
    // Checksums only where S3 requires them: many S3-compatible servers refuse the newer default ones.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { connectionTimeout: 5_000 },
  });
  const Bucket = config.bucket;
  const base = config.prefix === '' ? [] : config.prefix.split('/');

  /** The object's name; every segment checked as a local path's would be. */
  function objectKey(key: readonly string[]): string {
    for (const s of key) artifactSegments(s);
    return [...base, ...key].join('/');
  }

  /** The name prefix of everything under a key ('' for the bucket's root). */
  function dirPrefix(key: readonly string[]): string {
    const name = objectKey(key);
    return name === '' ? '' : `${name}/`;
  }

  async function* objectsUnder(Prefix: string, Delimiter?: string) {
    let ContinuationToken: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket, Prefix, Delimiter, ContinuationToken }));
      yield { objects: page.Contents ?? [], prefixes: (page.CommonPrefixes ?? []).map((p) => p.Prefix ?? '') };
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
  }

  async function head(key: readonly string[]) {
    try {
      return await client.send(new HeadObjectCommand({ Bucket, Key: objectKey(key) }));
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  }

  /**
   * Whether any file lies under a name prefix. Not a bare listing: servers that keep folders
   * (SeaweedFS keeps a directory once its last object is deleted) list empty ones as prefixes and as
   * `name/` marker objects.
   */
  async function holdsFiles(Prefix: string): Promise<boolean> {
    for await (const page of objectsUnder(Prefix)) if (page.objects.some((o) => !(o.Key ?? '/').endsWith('/'))) return true;
    return false;
  }

  /** A key can name a file or a directory, never both (as on a disk): refused before any byte is read. */
  async function refuseClash(key: readonly string[]): Promise<void> {
    const ancestors = key.slice(0, -1).map((_, i) => key.slice(0, i + 1));
    const [under, files] = await Promise.all([holdsFiles(dirPrefix(key)), Promise.all(ancestors.map(head))]);
    if (under || files.some((f) => f !== null)) {
      throw new ArtifactPathError(`Cannot write '${key.join('/')}': a directory and a file would share that path`);
    }
  }

  async function deleteAll(objects: _Object[]): Promise<void> {
    const names = objects.map((o) => o.Key).filter((k): k is string => k !== undefined);
    for (let i = 0; i < names.length; i += 1000) {
      const Objects = names.slice(i, i + 1000).map((Key) => ({ Key }));
      const res = await client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects, Quiet: true } }));
      const failed = res.Errors?.[0];
      if (failed) throw new Error(`S3 refused to delete '${failed.Key}': ${failed.Code} ${failed.Message}`);
    }
  }

  return {
    async write(key, body, { maxBytes, stillWanted }) {
      if (key.length === 0) throw new ArtifactPathError('Invalid artifact path: name a file');
      const Key = objectKey(key);
      await refuseClash(key);
      const partBytes = Math.min(MAX_PART_BYTES, Math.max(MIN_PART_BYTES, Math.ceil(maxBytes / MAX_PARTS)));
      const metered = meteredBody(body, maxBytes);
      const parts: CompletedPart[] = [];
      // The multipart upload, once the first part is sent (a holder: sendPart sets it from a closure).
      const upload: { id: Promise<string> | null } = { id: null };
      let sending: Promise<void> | null = null;
      const sendPart = async (data: Buffer): Promise<void> => {
        const PartNumber = parts.length + 1;
        parts.push({ PartNumber });
        upload.id ??= client.send(new CreateMultipartUploadCommand({ Bucket, Key })).then((r) => r.UploadId ?? '');
        const UploadId = await upload.id;
        const res = await client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body: data }));
        parts[PartNumber - 1] = { PartNumber, ETag: res.ETag };
      };
      try {
        let filling: Buffer[] = [];
        let filled = 0;
        for await (const chunk of metered.stream as AsyncIterable<Buffer>) {
          filling.push(chunk);
          filled += chunk.length;
          if (filled < partBytes) continue;
          const data = Buffer.concat(filling);
          filling = [];
          filled = 0;
          await sending;
          sending = sendPart(data);
          // Awaited before the next part or in the catch below; marked handled while the body is read.
          sending.catch(() => undefined);
        }
        await sending;
        const rest = Buffer.concat(filling);
        if (upload.id === null) {
          await stillWanted?.();
          await client.send(new PutObjectCommand({ Bucket, Key, Body: rest, ContentLength: rest.length }));
        } else {
          if (rest.length > 0) await sendPart(rest);
          await stillWanted?.();
          const UploadId = await upload.id;
          await client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: parts } }));
          upload.id = null;
        }
      } catch (err) {
        metered.drop();
        await sending?.catch(() => undefined);
        if (upload.id !== null) {
          const UploadId = await upload.id.catch(() => null);
          // Best effort: an upload left open here is aborted by sweepParts later.
          if (UploadId) await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => undefined);
        }
        throw err;
      }
      metered.release();
      try {
        await stillWanted?.();
      } catch (err) {
        await client.send(new DeleteObjectCommand({ Bucket, Key }));
        throw err;
      }
      return { size: metered.size(), sha256: metered.sha256() };
    },
    async open(key, range) {
      if (key.length === 0) return null;
      try {
        const res = await client.send(
          new GetObjectCommand({ Bucket, Key: objectKey(key), Range: range ? `bytes=${range.start}-${range.end}` : undefined }),
        );
        const total = range ? Number(/\/(\d+)$/.exec(res.ContentRange ?? '')?.[1]) : res.ContentLength;
        if (total === undefined || !Number.isFinite(total)) throw new Error(`S3 answered no size for '${key.join('/')}'`);
        return { size: total, stream: res.Body as Readable };
      } catch (err) {
        if (isMissing(err)) return null;
        throw err;
      }
    },
    async stat(key) {
      if (key.length === 0) return null;
      const res = await head(key);
      return res === null ? null : { size: res.ContentLength ?? 0, modifiedAt: res.LastModified?.getTime() ?? 0 };
    },
    async list(key) {
      const prefix = dirPrefix(key);
      const entries = new Map<string, ArtifactEntry>();
      for await (const page of objectsUnder(prefix, '/')) {
        const dirs = await Promise.all(page.prefixes.map(async (p) => ((await holdsFiles(p)) ? p.slice(prefix.length, -1) : '')));
        for (const name of dirs) if (name !== '') entries.set(name, { name, isDir: true });
        for (const o of page.objects) {
          const name = (o.Key ?? '').slice(prefix.length);
          // A directory marker (`name/`, made by other tools) is not a file.
          if (name !== '' && !name.includes('/')) entries.set(name, { name, isDir: false, size: o.Size ?? 0 });
        }
      }
      return [...entries.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
    async remove(key) {
      if (key.length > 0) await client.send(new DeleteObjectCommand({ Bucket, Key: objectKey(key) }));
      for await (const page of objectsUnder(dirPrefix(key))) await deleteAll(page.objects);
    },
    async usage(key) {
      let total = key.length > 0 ? ((await head(key))?.ContentLength ?? 0) : 0;
      for await (const page of objectsUnder(dirPrefix(key))) for (const o of page.objects) total += o.Size ?? 0;
      return total;
    },
    async sweepParts(olderThan) {
      let removed = 0;
      let KeyMarker: string | undefined;
      let UploadIdMarker: string | undefined;
      do {
        const page = await client.send(
          new ListMultipartUploadsCommand({ Bucket, Prefix: dirPrefix([]), KeyMarker, UploadIdMarker }),
        );
        for (const upload of page.Uploads ?? []) {
          if ((upload.Initiated?.getTime() ?? 0) >= olderThan || !upload.Key || !upload.UploadId) continue;
          await client.send(new AbortMultipartUploadCommand({ Bucket, Key: upload.Key, UploadId: upload.UploadId }));
          removed++;
        }
        const more = page.IsTruncated === true;
        KeyMarker = more ? page.NextKeyMarker : undefined;
        UploadIdMarker = more ? page.NextUploadIdMarker : undefined;
      } while (KeyMarker);
      return removed;
    },
    async check() {
      await client.send(new HeadBucketCommand({ Bucket }), { abortSignal: AbortSignal.timeout(CHECK_TIMEOUT_MS) });
    },
    close() {
      client.destroy();
    },
  };
}

function isMissing(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}
