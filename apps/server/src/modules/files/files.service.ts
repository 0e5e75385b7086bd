import type { Readable } from 'node:stream';
import type { Static } from '@sinclair/typebox';
import type { AppContext, Caller } from '../../context.js';
import type { ExperimentFilesTable, ExperimentMediaTable } from '../../db/schema.js';
import { AppError, badRequest, notFound } from '../../errors.js';
import { FILE_LIMITS } from '../../lib/limits.js';
import { iso } from '../../lib/schemas.js';
import { ArtifactPathError, ArtifactTooLargeError, artifactSegments } from '../artifacts/artifacts.store.js';
import { experimentForCaller } from '../experiments/experiments.service.js';
import * as repo from './files.repository.js';
import type { FileEntryDto, FileListQuery, MediaEntryDto, MediaListQuery } from './files.schemas.js';
import { deleteRunFiles, findRunFile, openThumbnail, queueThumbnail, storeRunFile, type RunRef } from './files.store.js';
import { NO_THUMBNAIL, THUMBNAIL_TYPE } from './thumbnails.js';
import { mlflowCompressedPath, parseMlflowImagePath, type ImageInfo } from './media.sniff.js';

/** Where MLflow puts the smaller copy of an image it logged by key and step; null for other images. */
function thumbnailCandidate(path: string): string | null {
  const name = parseMlflowImagePath(path);
  return name === null || name.compressed ? null : mlflowCompressedPath(name.imagePath);
}

/**
 * Tora's own door to a run's files and media (`/api/experiments/:id/files/…`, `/media/…`):
 * access first (viewer reads, editor writes; a non-member gets the experiment's 404), then the one
 * writer in files.store.ts, which MLflow's artifact proxy shares.
 */

function toFileDto(row: ExperimentFilesTable): FileEntryDto {
  return { path: row.path, size: row.size, sha256: row.sha256, contentType: row.content_type, updatedAt: iso(row.updated_at)! };
}

function hasThumbnail(row: ExperimentMediaTable): boolean {
  return row.thumbnail_type !== null && row.thumbnail_type !== undefined && row.thumbnail_type !== NO_THUMBNAIL;
}

/** An image row as the API shows it, with its smaller copy among `thumbnails` (paths that exist), if any. */
function toMediaDto(row: ExperimentMediaTable, thumbnails: ReadonlySet<string>): MediaEntryDto {
  const thumbnail = thumbnailCandidate(row.path);
  return {
    name: row.name,
    step: row.step,
    path: row.path,
    contentType: row.content_type,
    width: row.width,
    height: row.height,
    size: row.size,
    thumbnailPath: thumbnail !== null && thumbnails.has(thumbnail) ? thumbnail : null,
    thumbnail: hasThumbnail(row),
  };
}

async function runFor(ctx: AppContext, caller: Caller, id: string, min: 'viewer' | 'editor'): Promise<RunRef> {
  const { row } = await experimentForCaller(ctx, caller, id, min);
  return { workspaceId: row.workspaceId, experimentId: row.id };
}

function tooLarge(max: number): AppError {
  return new AppError(
    'PAYLOAD_TOO_LARGE',
    413,
    `File is larger than this server's limit of ${max} bytes (TORA_MAX_ARTIFACT_BYTES)`,
  );
}

/** The store's refusals as Tora's 400 and 413. */
async function withStoreErrors<T>(ctx: AppContext, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ArtifactPathError) throw badRequest(err.message, [{ path: 'path', message: err.message }]);
    if (err instanceof ArtifactTooLargeError) throw tooLarge(ctx.config.maxArtifactBytes);
    throw err;
  }
}

function refuseDeclaredSize(ctx: AppContext, declaredBytes: number | undefined): void {
  if (declaredBytes !== undefined && declaredBytes > ctx.config.maxArtifactBytes) throw tooLarge(ctx.config.maxArtifactBytes);
}

/**
 * Stores the request's body as the run's file at `path` (replacing one there).
 *
 * @example await putFile(ctx, caller, id, 'plots/curve.png', request.raw, 1234) // { file: { path, size, sha256, … } }
 */
export async function putFile(
  ctx: AppContext,
  caller: Caller,
  id: string,
  path: string,
  body: Readable,
  declaredBytes?: number,
): Promise<{ file: FileEntryDto }> {
  refuseDeclaredSize(ctx, declaredBytes);
  const run = await runFor(ctx, caller, id, 'editor');
  const row = await withStoreErrors(ctx, () => storeRunFile(ctx, run, path, body));
  return { file: toFileDto(row) };
}

export async function openFile(ctx: AppContext, caller: Caller, id: string, path: string) {
  const run = await runFor(ctx, caller, id, 'viewer');
  const file = await withStoreErrors(ctx, () => findRunFile(ctx, run, path));
  if (file === null) throw notFound('FILE_NOT_FOUND', 'File');
  return file;
}

export async function deleteFile(ctx: AppContext, caller: Caller, id: string, path: string): Promise<void> {
  const run = await runFor(ctx, caller, id, 'editor');
  if (!(await withStoreErrors(ctx, () => deleteRunFiles(ctx, run, path)))) throw notFound('FILE_NOT_FOUND', 'File');
}

export async function listFiles(
  ctx: AppContext,
  caller: Caller,
  id: string,
  query: Static<typeof FileListQuery>,
): Promise<{ files: FileEntryDto[] }> {
  const run = await runFor(ctx, caller, id, 'viewer');
  const rows = await repo.listFiles(ctx.db, {
    experimentId: run.experimentId,
    prefix: query.prefix ?? '',
    after: query.after,
    limit: FILE_LIMITS.listSize,
  });
  return { files: rows.map(toFileDto) };
}

function mediaName(raw: string): string {
  if ([...raw].length > FILE_LIMITS.mediaNameLength) {
    throw badRequest(`Media name is longer than ${FILE_LIMITS.mediaNameLength} characters`, [
      { path: 'name', message: 'too long' },
    ]);
  }
  return raw;
}

function requireImage(info: ImageInfo | null): ImageInfo {
  if (info === null) {
    throw new AppError(
      'UNSUPPORTED_MEDIA_TYPE',
      415,
      `Not an image this server reads: send a PNG, JPEG, WebP or GIF (its header within the first ${FILE_LIMITS.imageHeadBytes} bytes)`,
    );
  }
  return info;
}

/**
 * Stores an image as key `name`'s at `step` (one past the key's highest step when absent), at the
 * run's file `media/<name>/<step>.<ext>`; an image this door stored earlier at that key and step is
 * replaced. The format is checked by its magic bytes before anything is written.
 *
 * @example await putMedia(ctx, caller, id, 'samples', 3, request.raw) // { media: { name: 'samples', step: 3, width: 64, … } }
 */
export async function putMedia(
  ctx: AppContext,
  caller: Caller,
  id: string,
  rawName: string,
  step: number | undefined,
  body: Readable,
  declaredBytes?: number,
): Promise<{ media: MediaEntryDto }> {
  refuseDeclaredSize(ctx, declaredBytes);
  const name = mediaName(rawName);
  const run = await runFor(ctx, caller, id, 'editor');
  const at = step ?? ((await repo.highestMediaStep(ctx.db, run.experimentId, name)) ?? -1) + 1;
  const row = await withStoreErrors(ctx, () =>
    storeRunFile(ctx, run, `media/${name}/${at}`, body, { media: { name, step: at, check: requireImage } }),
  );
  const earlier = await repo.mediaAt(ctx.db, run.experimentId, name, at);
  for (const old of earlier) {
    if (old.path !== row.path && old.path.startsWith(`media/${name}/${at}.`)) await deleteRunFiles(ctx, run, old.path);
  }
  const media = earlier.find((m) => m.path === row.path);
  if (media === undefined) throw notFound('FILE_NOT_FOUND', 'Image');
  return { media: toMediaDto(media, new Set()) };
}

export async function listMedia(
  ctx: AppContext,
  caller: Caller,
  id: string,
  query: Static<typeof MediaListQuery>,
): Promise<{ media: MediaEntryDto[] }> {
  const run = await runFor(ctx, caller, id, 'viewer');
  const rows = await repo.listMedia(ctx.db, {
    experimentId: run.experimentId,
    name: query.name,
    from: query.from,
    to: query.to,
    limit: FILE_LIMITS.mediaListSize,
  });
  // Found when read, not linked when written: MLflow uploads an image and its copy concurrently.
  const candidates = rows.flatMap((r) => thumbnailCandidate(r.path) ?? []);
  const thumbnails = await repo.existingPaths(ctx.db, run.experimentId, candidates);
  // Images never tried (imported, or queued when the server stopped) get theirs now.
  for (const r of rows) if (r.thumbnail_type === null || r.thumbnail_type === undefined) queueThumbnail(ctx, run, r.path);
  return { media: rows.map((r) => toMediaDto(r, thumbnails)) };
}

/**
 * Tora's thumbnail of the run's image at `path`, with the SHA-256 of the image it was made from
 * (its ETag); 404 while there is none.
 */
export async function thumbnailOf(
  ctx: AppContext,
  caller: Caller,
  id: string,
  path: string,
): Promise<{ sha256: string; type: string; open: () => Promise<Readable | null> }> {
  const run = await runFor(ctx, caller, id, 'viewer');
  const clean = await withStoreErrors(ctx, async () => artifactSegments(path).join('/'));
  const media = await repo.findMedia(ctx.db, run.experimentId, clean);
  const file = await repo.findFile(ctx.db, run.experimentId, clean);
  if (media === undefined || !hasThumbnail(media) || file === undefined) {
    throw notFound('FILE_NOT_FOUND', 'Thumbnail');
  }
  return { sha256: file.sha256, type: THUMBNAIL_TYPE, open: () => openThumbnail(ctx, run, clean) };
}

// ---- the index of a run's files, for doors that check access their own way (MLflow's) ----

/** The run's file recorded at exactly this path; undefined when there is none (`tora import-mlflow` skips what it has). */
export function findFile(ctx: AppContext, experimentId: string, path: string): Promise<ExperimentFilesTable | undefined> {
  return repo.findFile(ctx.db, experimentId, path);
}

/** The run's files under `prefix`, in path order, at most `limit` (a model directory's listing). */
export function filesUnder(
  ctx: AppContext,
  experimentId: string,
  prefix: string,
  limit: number,
): Promise<ExperimentFilesTable[]> {
  return repo.listFiles(ctx.db, { experimentId, prefix, limit });
}

/** How many of the run's files lie under `prefix`, and their bytes. */
export function sizeUnder(ctx: AppContext, experimentId: string, prefix: string): Promise<{ files: number; bytes: number }> {
  return repo.sizeUnder(ctx.db, experimentId, prefix);
}

/** The run's files named `name` (at the top or in any directory), in path order, at most `limit` (its `MLmodel`s). */
export function filesNamed(ctx: AppContext, experimentId: string, name: string, limit: number): Promise<ExperimentFilesTable[]> {
  return repo.filesNamed(ctx.db, experimentId, name, limit);
}
