import { Readable } from 'node:stream';
import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import { THUMBNAIL_LIMITS } from '../../lib/limits.js';
import type { ThumbnailJob, ThumbnailQueue } from '../../context.js';
import type { BlobStore } from '../../lib/blob-store.js';
import * as repo from './files.repository.js';

/**
 * Smaller copies of uploaded images, made once per image in the background: an upload enqueues
 * its image and answers at once; one job at a time reads the image from the blob store, decodes
 * and resizes it with sharp (libvips, prebuilt binaries from npm; PNG, JPEG, WebP and GIF's first
 * frame), and writes a WebP beside the run's files (`<run>/thumbnails/<path>`), then records its
 * type on the media row when the file still has the bytes it was made from. Bytes that do not
 * decode are recorded as having none (type ''; the web app shows the original). Images indexed
 * without one being made (imported, or queued when the server stopped) are queued again when
 * their run's media is listed. Where sharp cannot load, nothing is made at all.
 *
 * @example thumbnails.enqueue({ experimentId, path, source, target }); // later: await thumbnails.close();
 */

export const THUMBNAIL_TYPE = 'image/webp';
/** Recorded for an image that was tried and has none (too large, or bytes that do not decode). */
export const NO_THUMBNAIL = '';

type Sharp = typeof import('sharp').default;

async function loadSharp(): Promise<Sharp | null> {
  try {
    const sharp = (await import('sharp')).default;
    // Background work: one libvips thread, and no operation cache holding decoded images in memory.
    sharp.concurrency(1);
    sharp.cache(false);
    return sharp;
  } catch {
    return null;
  }
}

async function readAll(stream: Readable, max: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > max) {
      stream.destroy();
      return null;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

class Superseded extends Error {}

export class Thumbnailer implements ThumbnailQueue {
  private readonly queue: ThumbnailJob[] = [];
  /** `experimentId/path` of the images queued or in hand: one job per image at a time. */
  private readonly pending = new Set<string>();
  private running: Promise<void> | null = null;
  private closed = false;
  private sharp: Promise<Sharp | null> | null = null;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly blobs: BlobStore,
    private readonly onError: (err: unknown, job: ThumbnailJob) => void,
  ) {}

  /** Queues an image; never waits and never throws (a full queue drops it). */
  enqueue(job: ThumbnailJob): void {
    const id = `${job.experimentId}/${job.path}`;
    if (this.closed || this.pending.has(id) || this.queue.length >= THUMBNAIL_LIMITS.queueLength) return;
    this.pending.add(id);
    this.queue.push(job);
    // Started on the next turn, after the upload's answer is under way.
    this.running ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.drain());
  }

  /** Resolves once every queued image is done (or dropped, after close). */
  async idle(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  /** Drops what is queued and waits for the job in hand: the app is closing its database. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) this.pending.delete(`${job.experimentId}/${job.path}`);
    await this.idle();
  }

  private async drain(): Promise<void> {
    try {
      for (let job = this.queue.shift(); job !== undefined; job = this.queue.shift()) {
        try {
          await this.make(job);
        } catch (err) {
          this.onError(err, job);
        } finally {
          this.pending.delete(`${job.experimentId}/${job.path}`);
        }
      }
    } finally {
      this.running = null;
    }
  }

  private async make(job: ThumbnailJob): Promise<void> {
    this.sharp ??= loadSharp();
    const sharp = await this.sharp;
    const file = await repo.findFile(this.db, job.experimentId, job.path);
    if (sharp === null || file === undefined || this.closed) return;
    const bytes = await this.read(job.source);
    const thumbnail = bytes === null ? null : await resized(sharp, bytes);
    if (thumbnail !== null) {
      // The image replaced or deleted meanwhile (its run too): no thumbnail left behind for it.
      const stillWanted = async () => {
        if (this.closed || !(await repo.fileHasBytes(this.db, { ...job, sha256: file.sha256 }))) throw new Superseded();
      };
      try {
        await this.blobs.write(job.target, Readable.from([thumbnail]), { maxBytes: thumbnail.length, stillWanted });
      } catch (err) {
        if (err instanceof Superseded) return;
        throw err;
      }
    }
    await repo.setThumbnail(this.db, { ...job, sha256: file.sha256, type: thumbnail === null ? NO_THUMBNAIL : THUMBNAIL_TYPE });
  }

  private async read(key: readonly string[]): Promise<Buffer | null> {
    const opened = await this.blobs.open(key);
    return opened === null ? null : readAll(opened.stream, THUMBNAIL_LIMITS.maxSourceBytes);
  }
}

/** The thumbnail's bytes, or null when the image does not decode (or is over the pixel limit). */
async function resized(sharp: Sharp, bytes: Buffer): Promise<Buffer | null> {
  try {
    return await sharp(bytes, { limitInputPixels: THUMBNAIL_LIMITS.maxSourcePixels })
      .rotate() // as the camera held it (EXIF orientation)
      .resize(THUMBNAIL_LIMITS.edge, THUMBNAIL_LIMITS.edge, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 80 })
      .toBuffer();
  } catch {
    return null;
  }
}
