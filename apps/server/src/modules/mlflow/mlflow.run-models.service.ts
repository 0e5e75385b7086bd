import type { Static } from '@sinclair/typebox';
import type { AppContext, Caller } from '../../context.js';
import type { ExperimentFilesTable, MlflowLoggedModelsTable } from '../../db/schema.js';
import { RUN_MODEL_LIMITS as L } from '../../lib/limits.js';
import type { BlobStore } from '../../lib/blob-store.js';
import { experimentForCaller } from '../experiments/experiments.service.js';
import * as files from '../files/files.service.js';
import { modelDir } from './mlflow.models.service.js';
import { loggedModelsOfRun } from './mlflow.models.repository.js';
import { versionsFromRun } from './mlflow.registry.repository.js';
import type { RegisteredVersionDto, RunModelDto, RunModelList } from './mlflow.run-models.schemas.js';

/**
 * The models a run logged, for the Models section of its page: MLflow 3 logged models it made
 * (`mlflow.<flavor>.log_model`, files under the model's own directory) and directories of the
 * run's files holding an `MLmodel` (MLflow 2's `log_model(artifact_path=…)`, or a model uploaded
 * as files), each with its flavors, files and size, and the registered versions made from the run.
 * Viewers and up; a non-member gets the experiment's 404.
 *
 * @example await runModels(ctx, caller, id) // { models: [{ kind: 'logged', flavors: ['sklearn', …] }], registered: [] }
 */

type Listing = Static<typeof RunModelList>;

/**
 * The flavor names of an MLmodel file (the keys under its top-level `flavors:`), read as YAML
 * written by MLflow: two-space indentation, one key per line.
 *
 * @example flavorsOf('flavors:\n  python_function:\n    env: …\n  sklearn:\n    pickled_model: model.pkl\n') // ['python_function', 'sklearn']
 */
export function flavorsOf(text: string): string[] {
  const out: string[] = [];
  let inside = false;
  for (const line of text.split(/\r?\n/)) {
    if (/^flavors:\s*$/.test(line)) inside = true;
    else if (inside && /^\S/.test(line)) break;
    else if (inside) {
      const m = /^ {2}([\w.-]+):/.exec(line);
      if (m) out.push(m[1]!);
    }
  }
  return out;
}

async function readText(blobs: BlobStore, key: readonly string[]): Promise<string> {
  const opened = await blobs.open(key, { start: 0, end: L.mlmodelBytes - 1 }).catch(() => null);
  if (opened === null) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of opened.stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Every file under `key` (depth first, in name order): the first `limit`, and the count and bytes of all. */
async function walk(
  blobs: BlobStore,
  key: readonly string[],
  limit: number,
): Promise<{ files: { path: string; size: number }[]; count: number; bytes: number }> {
  const out = { files: [] as { path: string; size: number }[], count: 0, bytes: 0 };
  async function visit(dir: readonly string[], prefix: string): Promise<void> {
    for (const entry of await blobs.list(dir)) {
      const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
      if (entry.isDir) await visit([...dir, entry.name], path);
      else {
        out.count++;
        out.bytes += entry.size ?? 0;
        if (out.files.length < limit) out.files.push({ path, size: entry.size ?? 0 });
      }
    }
  }
  await visit(key, '');
  return out;
}

const STATUS: Record<string, string> = {
  LOGGED_MODEL_READY: 'READY',
  LOGGED_MODEL_PENDING: 'PENDING',
  LOGGED_MODEL_UPLOAD_FAILED: 'UPLOAD_FAILED',
};

async function loggedModel(ctx: AppContext, row: MlflowLoggedModelsTable): Promise<RunModelDto> {
  const root = [...modelDir(row), 'artifacts'];
  const listed = await walk(ctx.blobs, root, L.filesPerModel);
  const flavors = listed.files.some((f) => f.path === 'MLmodel')
    ? flavorsOf(await readText(ctx.blobs, [...root, 'MLmodel']))
    : [];
  return {
    key: row.id,
    kind: 'logged',
    name: row.name,
    path: null,
    status: STATUS[row.status] ?? row.status,
    flavors: flavors.length > 0 ? flavors : row.model_type === '' ? [] : [row.model_type],
    size: listed.bytes,
    fileCount: listed.count,
    files: listed.files,
    uri: `models:/${row.id}`,
  };
}

async function directoryModel(
  ctx: AppContext,
  run: { workspaceId: string; experimentId: string },
  mlmodel: ExperimentFilesTable,
): Promise<RunModelDto> {
  const dir = mlmodel.path.slice(0, Math.max(0, mlmodel.path.length - '/MLmodel'.length));
  const prefix = dir === '' ? '' : `${dir}/`;
  const rows = await files.filesUnder(ctx, run.experimentId, prefix, L.filesPerModel);
  const total = await files.sizeUnder(ctx, run.experimentId, prefix);
  const segments = mlmodel.path.split('/');
  const text = await readText(ctx.blobs, [run.workspaceId, run.experimentId, 'artifacts', ...segments]);
  return {
    key: `dir:${dir}`,
    kind: 'directory',
    name: dir === '' ? '(run root)' : dir,
    path: dir,
    status: 'READY',
    flavors: flavorsOf(text),
    size: total.bytes,
    fileCount: total.files,
    files: rows.map((r) => ({ path: r.path.slice(prefix.length), size: r.size })),
    uri: `runs:/${run.experimentId}${dir === '' ? '' : `/${dir}`}`,
  };
}

/** Which of the run's models a registered version's source names, if any. */
function sourceModel(source: string, loggedModelId: string | null, models: readonly RunModelDto[], runId: string): string | null {
  if (loggedModelId !== null && models.some((m) => m.key === loggedModelId)) return loggedModelId;
  const clean = source.replace(/\/+$/, '');
  for (const m of models) {
    if (m.kind === 'logged' && clean.includes(m.key)) return m.key;
    if (m.kind === 'directory' && m.path !== null) {
      if (clean === `runs:/${runId}${m.path === '' ? '' : `/${m.path}`}`) return m.key;
      if (clean.endsWith(`/${runId}/artifacts${m.path === '' ? '' : `/${m.path}`}`)) return m.key;
    }
  }
  return null;
}

export async function runModels(ctx: AppContext, caller: Caller, id: string): Promise<Listing> {
  const { row } = await experimentForCaller(ctx, caller, id, 'viewer');
  const run = { workspaceId: row.workspaceId, experimentId: row.id };
  const logged = await loggedModelsOfRun(ctx.db, run.workspaceId, run.experimentId);
  const mlmodels = await files.filesNamed(ctx, run.experimentId, 'MLmodel', L.models);
  const models: RunModelDto[] = [];
  for (const m of logged.slice(0, L.models)) models.push(await loggedModel(ctx, m));
  for (const f of mlmodels.slice(0, L.models - models.length)) models.push(await directoryModel(ctx, run, f));
  const versions = await versionsFromRun(ctx.db, run.workspaceId, run.experimentId);
  const registered: RegisteredVersionDto[] = versions.map((v) => {
    const aliases = JSON.parse(v.model_aliases) as { alias: string; version: string }[];
    return {
      name: v.model_name,
      version: v.version,
      stage: v.stage,
      aliases: aliases.filter((a) => a.version === String(v.version)).map((a) => a.alias),
      source: v.source,
      model: sourceModel(v.source, v.logged_model_id, models, run.experimentId),
    };
  });
  return { models, registered };
}
