import type { Readable } from 'node:stream';
import type { AppContext } from '../../context.js';
import type { ByteRange } from '../../lib/blob-store.js';
import { artifactSegments } from '../artifacts/artifacts.store.js';
import type { ExperimentFilesTable } from '../../db/schema.js';
import * as repo from './files.repository.js';
import { contentTypeOf } from './files.content.js';
import { IMAGE_HEAD_BYTES, parseMlflowImagePath, sniffImage, type ImageInfo } from './media.sniff.js';
import { readHead } from './upload-head.js';

/**
 * The one writer (and reader) of a run's files, behind both doors: Tora's files and media routes
 * and MLflow's artifact proxy (`<workspace>/<run>/artifacts/<path>`), so a file written through
 * one lists and downloads through the other. Bytes go to the blob store (`ctx.blobs`), the index
 * row (size, SHA-256, type) and any media row to the database after the bytes are in place. The
 * callers check access first and map the store's errors (`ArtifactPathError`,
 * `ArtifactTooLargeError`) to their door's shape.
 *
 * @example await storeRunFile(ctx, run, 'plots/curve.png', request.raw);
 */

export interface RunRef {
  workspaceId: string;
  experimentId: string;
}

/** Where a run's file lives in the blob store. */
function blobKey(run: RunRef, segments: readonly string[]): string[] {
  return [run.workspaceId, run.experimentId, 'artifacts', ...segments];
}

/** Where Tora's thumbnail of a run's image lives (beside the files, so MLflow's door never lists it). */
function thumbnailKey(run: RunRef, segments: readonly string[]): string[] {
  return [run.workspaceId, run.experimentId, 'thumbnails', ...segments];
}

/**
 * What the media door asks of an upload: an image, stored as this key's image at this step, at the
 * path given plus the image's extension.
 */
export interface MediaTarget {
  name: string;
  step: number;
  /** Refuses the upload (nothing is written) when the bytes are not an image: the media door's check. */
  check(info: ImageInfo | null): ImageInfo;
}

export async function storeRunFile(
  ctx: AppContext,
  run: RunRef,
  path: string,
  source: Readable,
  opts: {
    contentType?: string;
    media?: MediaTarget;
    /** Below the server's per-file cap, e.g. what a workspace quota leaves. */
    maxBytes?: number;
    /** Re-checks access once the bytes are in (see WriteOptions.stillWanted). */
    stillWanted?: () => Promise<void>;
  } = {},
): Promise<ExperimentFilesTable> {
  artifactSegments(path); // refused before the body is read
  const mlflowImage = opts.media === undefined ? parseMlflowImagePath(path) : null;
  let body = source;
  let image: ImageInfo | null = null;
  if (opts.media !== undefined || (mlflowImage !== null && !mlflowImage.compressed)) {
    const read = await readHead(source, IMAGE_HEAD_BYTES);
    body = read.body;
    image = sniffImage(read.head);
    if (opts.media !== undefined) {
      image = opts.media.check(image);
      path = `${path}.${image.extension}`;
    }
  }
  const segments = artifactSegments(path);
  const { size, sha256 } = await ctx.blobs.write(blobKey(run, segments), body, {
    maxBytes: opts.maxBytes ?? ctx.config.maxArtifactBytes,
    stillWanted: opts.stillWanted,
  });
  const row: ExperimentFilesTable = {
    experiment_id: run.experimentId,
    path: segments.join('/'),
    size,
    sha256,
    content_type: image?.contentType ?? opts.contentType ?? contentTypeOf(path),
    updated_at: ctx.clock(),
  };
  const media = opts.media ?? (mlflowImage !== null && image !== null ? { name: mlflowImage.key, step: mlflowImage.step } : null);
  await ctx.db.transaction().execute(async (trx) => {
    await repo.upsertFile(trx, row);
    // An overwritten image is indexed afresh (or no longer, when the new bytes are not one).
    await repo.deleteMediaAt(trx, run.experimentId, row.path);
    if (media !== null && image !== null) {
      await repo.upsertMedia(trx, {
        experiment_id: run.experimentId,
        path: row.path,
        name: media.name,
        step: media.step,
        content_type: image.contentType,
        width: image.width,
        height: image.height,
        size,
      });
    }
  });
  if (media !== null && image !== null) {
    queueThumbnail(ctx, run, row.path);
  }
  return row;
}

/** Asks for Tora's thumbnail of the run's image at `path` (made in the background, once). */
export function queueThumbnail(ctx: AppContext, run: RunRef, path: string): void {
  const segments = artifactSegments(path);
  ctx.thumbnails.enqueue({
    experimentId: run.experimentId,
    path,
    source: blobKey(run, segments),
    target: thumbnailKey(run, segments),
  });
}

/** Tora's thumbnail of a run's image, as a stream; null when none was made. */
export async function openThumbnail(ctx: AppContext, run: RunRef, path: string): Promise<Readable | null> {
  return (await ctx.blobs.open(thumbnailKey(run, artifactSegments(path))))?.stream ?? null;
}

/** A run's file as recorded, with a way to stream it (whole or a range); null when none is there. */
export async function findRunFile(
  ctx: AppContext,
  run: RunRef,
  path: string,
): Promise<{ row: ExperimentFilesTable; open: (range?: ByteRange) => Promise<Readable | null> } | null> {
  const segments = artifactSegments(path);
  const row = await repo.findFile(ctx.db, run.experimentId, segments.join('/'));
  if (row === undefined) return null;
  return {
    row,
    open: async (range) => (await ctx.blobs.open(blobKey(run, segments), range))?.stream ?? null,
  };
}

/**
 * Removes the file at `path`, or everything under it when it is a directory ('' : all the run's
 * files): the index rows first, then the bytes. Returns whether anything was recorded there.
 */
export async function deleteRunFiles(ctx: AppContext, run: RunRef, path: string): Promise<boolean> {
  const segments = artifactSegments(path);
  const clean = segments.join('/');
  const found =
    clean === '' ||
    (await repo.findFile(ctx.db, run.experimentId, clean)) !== undefined ||
    (await repo.listFiles(ctx.db, { experimentId: run.experimentId, prefix: `${clean}/`, limit: 1 })).length > 0;
  await ctx.db.transaction().execute((trx) => repo.deleteFilesUnder(trx, run.experimentId, clean));
  await ctx.blobs.remove(blobKey(run, segments));
  await ctx.blobs.remove(thumbnailKey(run, segments));
  return found;
}
