import type { Readable } from 'node:stream';
import type { AppContext, Caller } from '../../context.js';
import type { Role } from '../../db/schema.js';
import { requireRole } from '../workspaces/access.js';
import { ArtifactPathError, artifactSegments, ArtifactTooLargeError, STALE_PART_MS } from '../artifacts/artifacts.store.js';
import type { ArtifactEntry, BlobStore } from '../../lib/blob-store.js';
import { servedContentType } from '../files/files.content.js';
import type { Download } from '../files/files.download.js';
import { deleteRunFiles, findRunFile, storeRunFile, type RunRef } from '../files/files.store.js';
import { doesNotExist, invalidParameter, MlflowError } from './mlflow.errors.js';
import { modelDir, modelForCaller } from './mlflow.models.service.js';
import { runForCaller } from './mlflow.runs.service.js';

/**
 * MLflow's artifact proxy (`/api/2.0/mlflow-artifacts/artifacts/<path>`) over Tora's file store.
 * A path starts with what it belongs to, and that decides access: `<workspace>/<run>/…` (the run's
 * `artifact_uri` is `mlflow-artifacts:/<workspace>/<run>/artifacts`) or `<workspace>/models/<model>/…`
 * (a logged model made without a run). Viewers read, editors write; a non-member gets 404.
 * Writes go only to `<workspace>/<run>/artifacts/…` and to a logged model's own `…/artifacts/…`.
 * A run's `artifacts/…` are the run's files: written, read and deleted through files.store.ts, the
 * same as Tora's own files routes (so each door sees the other's files, and MLflow's `log_image`
 * images are indexed as media).
 */

const MODELS = 'models';

/** Parses and checks a path; MLflow's INVALID_PARAMETER_VALUE for anything unsafe. */
function segmentsOf(raw: string): string[] {
  try {
    return artifactSegments(raw);
  } catch (err) {
    if (err instanceof ArtifactPathError) throw invalidParameter(err.message);
    throw err;
  }
}

/** Checks the caller's access to the owner the path names, and whether the path may be written. */
async function authorize(ctx: AppContext, caller: Caller, key: readonly string[], min: Role): Promise<void> {
  const [workspaceId, owner, ...rest] = key;
  if (workspaceId === undefined || owner === undefined) {
    throw invalidParameter("Invalid artifact path: it must start with '<experiment id>/<run id>/'");
  }
  const writing = min !== 'viewer';
  if (owner === MODELS) {
    const modelId = rest[0];
    if (modelId === undefined) throw invalidParameter("Invalid artifact path: it must name a logged model after 'models/'");
    const model = await modelForCaller(ctx, caller, modelId, min);
    if (model.workspace_id !== workspaceId || model.source_run_id !== null) {
      throw doesNotExist(`Logged model with ID '${modelId}' not found.`);
    }
    if (writing && rest[1] !== 'artifacts') {
      throw invalidParameter(`Invalid artifact path: files of a logged model go under 'models/${modelId}/artifacts/'`);
    }
    return;
  }
  const run = await runForCaller(ctx, caller, owner, min);
  if (run.workspaceId !== workspaceId) throw doesNotExist(`Run with id=${owner} not found`);
  if (!writing) return;
  if (rest[0] === 'artifacts') return;
  if (rest[0] === MODELS && rest[1] !== undefined && rest[2] === 'artifacts') {
    const model = await modelForCaller(ctx, caller, rest[1], min);
    if (model.source_run_id === run.id) return;
    throw doesNotExist(`Logged model with ID '${rest[1]}' not found.`);
  }
  throw invalidParameter(`Invalid artifact path: a run's files go under '${workspaceId}/${owner}/artifacts/'`);
}

/** The workspace as MLflow's 404 for non-members, checked before a workspace-level path is refused. */
async function checkWorkspace(ctx: AppContext, caller: Caller, workspaceId: string, min: Role): Promise<void> {
  await requireRole(ctx.db, caller.userId, workspaceId, min, {
    includeTrashed: true,
    missing: { code: 'WORKSPACE_NOT_FOUND', what: `Experiment with id '${workspaceId}'` },
  });
}

/** The run and the path within its files, when the key names `<workspace>/<run>/artifacts[/…]`. */
function runFileOf(key: readonly string[]): { run: RunRef; path: string } | null {
  const [workspaceId, owner, dir, ...rest] = key;
  if (workspaceId === undefined || owner === undefined || owner === MODELS || dir !== 'artifacts') return null;
  return { run: { workspaceId, experimentId: owner }, path: rest.join('/') };
}

async function access(ctx: AppContext, caller: Caller, raw: string, min: Role): Promise<string[]> {
  const key = segmentsOf(raw);
  if (key.length === 1) await checkWorkspace(ctx, caller, key[0]!, min);
  await authorize(ctx, caller, key, min);
  return key;
}

export async function uploadArtifact(
  ctx: AppContext,
  caller: Caller,
  raw: string,
  body: Readable,
  declaredBytes?: number,
): Promise<void> {
  const max = ctx.config.maxArtifactBytes;
  if (declaredBytes !== undefined && declaredBytes > max) throw tooLarge(max);
  const key = await access(ctx, caller, raw, 'editor');
  const store = ctx.blobs;
  // What the workspace quota leaves for this file (a replaced file's bytes are given back).
  const room = await withPathErrors(() => quotaRoom(ctx, store, key));
  if (room !== null && declaredBytes !== undefined && declaredBytes > room) throw overQuota(ctx);
  const maxBytes = room === null ? max : Math.min(max, room);
  try {
    // The same rule again once the bytes are in: the run (or workspace) may have been deleted meanwhile.
    const stillWanted = () => authorize(ctx, caller, key, 'editor');
    const file = runFileOf(key);
    if (file !== null && file.path !== '') {
      await withPathErrors(() => storeRunFile(ctx, file.run, file.path, body, { maxBytes, stillWanted }));
    } else {
      await withPathErrors(() => store.write(key, body, { maxBytes, stillWanted }));
    }
  } catch (err) {
    if (err instanceof ArtifactTooLargeError) throw room !== null && room < max ? overQuota(ctx) : tooLarge(max);
    throw err;
  }
}

async function quotaRoom(ctx: AppContext, store: BlobStore, key: readonly string[]): Promise<number | null> {
  const quota = ctx.config.maxWorkspaceBytes;
  if (quota === null) return null;
  const [used, replaced] = await Promise.all([store.usage(key.slice(0, 1)), store.usage(key)]);
  return Math.max(0, quota - used + replaced);
}

function tooLarge(max: number): MlflowError {
  return new MlflowError(
    'RESOURCE_LIMIT_EXCEEDED',
    413,
    `Artifact is larger than this server's limit of ${max} bytes per file (TORA_MAX_ARTIFACT_BYTES)`,
  );
}

function overQuota(ctx: AppContext): MlflowError {
  return new MlflowError(
    'RESOURCE_LIMIT_EXCEEDED',
    413,
    `This upload would take the experiment's artifacts past this server's quota of ${ctx.config.maxWorkspaceBytes} bytes per workspace (TORA_MAX_WORKSPACE_BYTES)`,
  );
}

/**
 * Removes what crashes mid-upload left in artifacts-tmp: parts older than a day (an upload in
 * progress writes its part continuously, so it is never that old). Run at start and every hour.
 */
export function sweepStaleParts(ctx: AppContext): Promise<number> {
  return ctx.blobs.sweepParts(ctx.clock() - STALE_PART_MS);
}

/** A file to download: a run's (with its recorded SHA-256 and type) or a logged model's. */
export async function openArtifact(ctx: AppContext, caller: Caller, raw: string): Promise<Download> {
  const key = await access(ctx, caller, raw, 'viewer');
  const file = runFileOf(key);
  const recorded = file === null || file.path === '' ? null : await withPathErrors(() => findRunFile(ctx, file.run, file.path));
  if (recorded !== null) {
    const { row } = recorded;
    return {
      path: row.path,
      size: row.size,
      sha256: row.sha256,
      contentType: servedContentType(row.content_type),
      open: recorded.open,
    };
  }
  // Logged models' files, and any file stored before the index existed.
  const stat = await withPathErrors(() => ctx.blobs.stat(key));
  if (stat === null) throw doesNotExist(`No artifact file at '${raw}'`);
  return {
    path: key.join('/'),
    size: stat.size,
    contentType: 'application/octet-stream',
    open: async (range) => (await ctx.blobs.open(key, range))?.stream ?? null,
  };
}

/** MLflow's list: the entries of the directory at `path`, names relative to it. */
export async function listArtifacts(
  ctx: AppContext,
  caller: Caller,
  raw: string,
): Promise<{ files: { path: string; is_dir: boolean; file_size?: number }[] }> {
  // A trailing `.` names the directory itself, as MLflow's normpath reads it: download_artifacts(run_id, ".")
  // lists `<run>/artifacts/.`. Anywhere else `.` stays refused, as do `..` and empty segments.
  const dir = raw === '.' ? '' : raw.endsWith('/.') ? raw.slice(0, -2) : raw;
  const key = await access(ctx, caller, dir, 'viewer');
  const entries: ArtifactEntry[] = await withPathErrors(() => ctx.blobs.list(key));
  return {
    files: entries.map((e) =>
      e.isDir ? { path: e.name, is_dir: true } : { path: e.name, is_dir: false, file_size: e.size ?? 0 },
    ),
  };
}

export async function deleteArtifacts(ctx: AppContext, caller: Caller, raw: string): Promise<void> {
  const key = await access(ctx, caller, raw, 'editor');
  const file = runFileOf(key.length === 2 ? [...key, 'artifacts'] : key);
  if (file !== null) await withPathErrors(() => deleteRunFiles(ctx, file.run, file.path));
  await withPathErrors(() => ctx.blobs.remove(key));
}

async function withPathErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ArtifactPathError) throw invalidParameter(err.message);
    throw err;
  }
}

/**
 * MLflow's path check for a path under a run's files (validate_path_is_safe): no `#`, no
 * backslash, no `..` segment, nothing absolute (`/…`, `C:…`); "Invalid path" otherwise. Empty and
 * `.` segments are dropped, as the listing MLflow does reads them.
 */
export function safeRunPath(path: string): string {
  if (
    path.includes('#') ||
    path.includes('\\') ||
    path.split('/').includes('..') ||
    path.startsWith('/') ||
    /^[A-Za-z]:/.test(path)
  ) {
    throw invalidParameter('Invalid path');
  }
  return path
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .join('/');
}

/**
 * `GET /api/2.0/mlflow/artifacts/list`: one directory of a run's files (the run's root without a
 * path), paths relative to the run's `artifact_uri` as MLflow answers them. A path that names no
 * directory lists nothing.
 */
export async function listRunArtifacts(
  ctx: AppContext,
  caller: Caller,
  runId: string,
  path: string | undefined,
): Promise<ArtifactListing> {
  const relative = path === undefined ? '' : safeRunPath(path);
  const run = await runForCaller(ctx, caller, runId, 'viewer');
  return listUnder(ctx, [run.workspaceId, run.id, 'artifacts'], relative);
}

/**
 * The MLflow UI's `GET logged-models/{id}/artifacts/directories?artifact_directory_path=`: one
 * directory of a logged model's files, as artifacts/list answers a run's.
 */
export async function listModelArtifacts(
  ctx: AppContext,
  caller: Caller,
  modelId: string,
  path: string | undefined,
): Promise<ArtifactListing> {
  const relative = path === undefined ? '' : safeRunPath(path);
  const model = await modelForCaller(ctx, caller, modelId, 'viewer');
  return listUnder(ctx, [...modelDir(model), 'artifacts'], relative);
}

export interface ArtifactListing {
  root_uri: string;
  files?: { path: string; is_dir: boolean; file_size?: number }[];
}

/** One directory under a root (`relative` already checked), paths relative to the root, as MLflow lists them. */
async function listUnder(ctx: AppContext, root: readonly string[], relative: string): Promise<ArtifactListing> {
  const dir = [...root, ...(relative === '' ? [] : relative.split('/'))];
  const entries: ArtifactEntry[] = await withPathErrors(() => ctx.blobs.list(dir));
  const root_uri = `mlflow-artifacts:/${root.join('/')}`;
  if (entries.length === 0) return { root_uri };
  return {
    root_uri,
    files: entries.map((e) => {
      const p = relative === '' ? e.name : `${relative}/${e.name}`;
      return e.isDir ? { path: p, is_dir: true } : { path: p, is_dir: false, file_size: e.size ?? 0 };
    }),
  };
}
