import type { Static } from '@sinclair/typebox';
import type { AppContext, Caller } from '../../context.js';
import type { MlflowLoggedModelsTable, Role } from '../../db/schema.js';
import { requireRole } from '../workspaces/access.js';
import { doesNotExist, invalidParameter } from './mlflow.errors.js';
import { workspaceFor } from './mlflow.experiments.service.js';
import * as repo from './mlflow.models.repository.js';
import type { KeyValue } from './mlflow.request.js';
import { encodeOffset } from '../../lib/page-token.js';
import { decodeToken, runForCaller } from './mlflow.runs.service.js';
import type { LoggedModel } from './mlflow.schemas.js';

/**
 * MLflow 3's logged models: what `mlflow.<flavor>.log_model` creates before uploading a model's
 * files, then finalizes. A model made by a run keeps its files beside the run's
 * (`<workspace>/<run>/models/<id>/artifacts`), so deleting the run deletes them; one made without
 * a run keeps them under its experiment (`<workspace>/models/<id>/artifacts`).
 */

const MODEL_STATUSES = ['LOGGED_MODEL_PENDING', 'LOGGED_MODEL_READY', 'LOGGED_MODEL_UPLOAD_FAILED'] as const;
export type ModelStatus = (typeof MODEL_STATUSES)[number];

/** MLflow's enum numbers (LoggedModelStatus in service.proto), for clients that send them. */
const STATUS_BY_NUMBER: Record<number, ModelStatus> = {
  1: 'LOGGED_MODEL_PENDING',
  2: 'LOGGED_MODEL_READY',
  3: 'LOGGED_MODEL_UPLOAD_FAILED',
};

export function modelStatus(raw: unknown): ModelStatus {
  const s = typeof raw === 'number' ? STATUS_BY_NUMBER[raw] : raw;
  if (typeof s !== 'string' || !(MODEL_STATUSES as readonly string[]).includes(s)) {
    throw invalidParameter(
      `Invalid value ${JSON.stringify(raw)} for parameter 'status': use one of ${MODEL_STATUSES.join(', ')}`,
    );
  }
  return s as ModelStatus;
}

/** The model's directory in the artifact store (its artifact_uri is `mlflow-artifacts:/` + this + `/artifacts`). */
export function modelDir(row: Pick<MlflowLoggedModelsTable, 'id' | 'workspace_id' | 'source_run_id'>): string[] {
  return row.source_run_id === null
    ? [row.workspace_id, 'models', row.id]
    : [row.workspace_id, row.source_run_id, 'models', row.id];
}

/** A logged model as the logged-models routes answer it (their response schema). */
export type LoggedModelDto = Static<typeof LoggedModel>;

function toLoggedModelDto(row: MlflowLoggedModelsTable): LoggedModelDto {
  const info: LoggedModelDto['info'] = {
    model_id: row.id,
    experiment_id: row.workspace_id,
    name: row.name,
    creation_timestamp_ms: row.created_at,
    last_updated_timestamp_ms: row.updated_at,
    artifact_uri: `mlflow-artifacts:/${modelDir(row).join('/')}/artifacts`,
    status: row.status,
    status_message: row.status_message,
    model_type: row.model_type,
    tags: JSON.parse(row.tags) as KeyValue[],
  };
  if (row.source_run_id !== null) info.source_run_id = row.source_run_id;
  return { info, data: { params: JSON.parse(row.params) as KeyValue[], metrics: [] } };
}

/** The model if the caller has `min` on its workspace; MLflow's 404 otherwise (non-members too). */
export async function modelForCaller(ctx: AppContext, caller: Caller, id: string, min: Role): Promise<MlflowLoggedModelsTable> {
  const row = await repo.findLoggedModel(ctx.db, id);
  if (!row) throw doesNotExist(`Logged model with ID '${id}' not found.`);
  await requireRole(ctx.db, caller.userId, row.workspace_id, min, {
    includeTrashed: true,
    missing: { code: 'NOT_FOUND', what: `Logged model with ID '${id}'` },
  });
  return row;
}

/** Later values win; a key set again replaces its value. */
function merge(current: KeyValue[], added: readonly KeyValue[]): KeyValue[] {
  const map = new Map(current.map((kv) => [kv.key, kv.value]));
  for (const { key, value } of added) map.set(key, value);
  return [...map].map(([key, value]) => ({ key, value }));
}

export async function createLoggedModel(
  ctx: AppContext,
  caller: Caller,
  input: { experimentId: string; name?: string; modelType?: string; sourceRunId?: string; tags: KeyValue[]; params: KeyValue[] },
): Promise<LoggedModelDto> {
  const workspaceId = await workspaceFor(ctx, caller, input.experimentId, 'editor');
  if (input.sourceRunId !== undefined) {
    const run = await runForCaller(ctx, caller, input.sourceRunId, 'editor');
    if (run.workspaceId !== workspaceId) {
      throw invalidParameter(`Run '${input.sourceRunId}' does not belong to experiment '${input.experimentId}'`);
    }
  }
  const id = `m-${ctx.newId().replace(/-/g, '')}`;
  const now = ctx.clock();
  const row: MlflowLoggedModelsTable = {
    id,
    workspace_id: workspaceId,
    source_run_id: input.sourceRunId ?? null,
    name: input.name?.trim() || `model-${id.slice(2, 10)}`,
    model_type: input.modelType ?? '',
    status: 'LOGGED_MODEL_PENDING',
    status_message: '',
    tags: JSON.stringify(merge([], input.tags)),
    params: JSON.stringify(merge([], input.params)),
    created_by: caller.userId,
    created_at: now,
    updated_at: now,
  };
  await repo.insertLoggedModel(ctx.db, row);
  return toLoggedModelDto(row);
}

export async function getLoggedModel(ctx: AppContext, caller: Caller, id: string): Promise<LoggedModelDto> {
  return toLoggedModelDto(await modelForCaller(ctx, caller, id, 'viewer'));
}

export async function finalizeLoggedModel(
  ctx: AppContext,
  caller: Caller,
  id: string,
  status: ModelStatus,
): Promise<LoggedModelDto> {
  await modelForCaller(ctx, caller, id, 'editor');
  await repo.updateLoggedModel(ctx.db, id, { status, updated_at: ctx.clock() });
  return getLoggedModel(ctx, caller, id);
}

export async function setLoggedModelTags(ctx: AppContext, caller: Caller, id: string, tags: KeyValue[]): Promise<void> {
  const row = await modelForCaller(ctx, caller, id, 'editor');
  const next = merge(JSON.parse(row.tags) as KeyValue[], tags);
  await repo.updateLoggedModel(ctx.db, id, { tags: JSON.stringify(next), updated_at: ctx.clock() });
}

export async function deleteLoggedModelTag(ctx: AppContext, caller: Caller, id: string, key: string): Promise<void> {
  const row = await modelForCaller(ctx, caller, id, 'editor');
  const current = JSON.parse(row.tags) as KeyValue[];
  if (!current.some((t) => t.key === key)) throw doesNotExist(`No tag with key '${key}' on logged model '${id}'`);
  await repo.updateLoggedModel(ctx.db, id, {
    tags: JSON.stringify(current.filter((t) => t.key !== key)),
    updated_at: ctx.clock(),
  });
}

export async function logLoggedModelParams(ctx: AppContext, caller: Caller, id: string, params: KeyValue[]): Promise<void> {
  const row = await modelForCaller(ctx, caller, id, 'editor');
  const next = merge(JSON.parse(row.params) as KeyValue[], params);
  await repo.updateLoggedModel(ctx.db, id, { params: JSON.stringify(next), updated_at: ctx.clock() });
}

/** Deletes the model and its files (MLflow keeps a soft-deleted row; nothing in Tora reads one). */
export async function deleteLoggedModel(ctx: AppContext, caller: Caller, id: string): Promise<void> {
  const row = await modelForCaller(ctx, caller, id, 'editor');
  await repo.deleteLoggedModel(ctx.db, id);
  await ctx.blobs.remove(modelDir(row));
}

export async function searchLoggedModels(
  ctx: AppContext,
  caller: Caller,
  q: { experimentIds: string[]; filter?: string; maxResults: number; pageToken?: string },
): Promise<{ models: LoggedModelDto[]; next_page_token?: string }> {
  const where = parseModelFilter(q.filter);
  const workspaceIds: string[] = [];
  for (const id of q.experimentIds) workspaceIds.push(await workspaceFor(ctx, caller, id, 'viewer'));
  const offset = decodeToken(q.pageToken);
  const rows = await repo.searchLoggedModels(ctx.db, { workspaceIds, where, offset, limit: q.maxResults + 1 });
  const models = rows.slice(0, q.maxResults).map(toLoggedModelDto);
  return rows.length > q.maxResults ? { models, next_page_token: encodeOffset(offset + q.maxResults) } : { models };
}

const FILTER_COLUMNS: Record<string, repo.ModelFilterColumn> = {
  name: 'name',
  model_id: 'id',
  source_run_id: 'source_run_id',
  model_type: 'model_type',
  status: 'status',
};

/**
 * The part of MLflow's logged-model filter the client itself sends (`name = '<name>'`, when a
 * `runs:/<run>/<name>` URI is resolved): equality clauses on attributes joined by AND.
 *
 * @example parseModelFilter("name = 'model' AND source_run_id = 'r1'") // [{column: 'name', op: '=', value: 'model'}, …]
 */
function parseModelFilter(filter: string | undefined): repo.ModelFilter[] {
  const clauses: repo.ModelFilter[] = [];
  let rest = (filter ?? '').trim();
  const clause = /^(?:attributes\.)?([a-z_]+)\s*(=|!=)\s*(?:'((?:[^']|'')*)'|"((?:[^"]|"")*)")\s*(?:and\s+(?=\S)|$)/i;
  while (rest !== '') {
    const m = clause.exec(rest);
    const column = m ? FILTER_COLUMNS[m[1]!.toLowerCase()] : undefined;
    if (!m || column === undefined) {
      throw invalidParameter(
        `Unsupported logged model filter '${filter ?? ''}': this server takes ${Object.keys(FILTER_COLUMNS).join(', ')} compared with = or != to a quoted string, joined by AND`,
      );
    }
    const value = m[3] !== undefined ? m[3].replace(/''/g, "'") : m[4]!.replace(/""/g, '"');
    clauses.push({ column, op: m[2] === '=' ? '=' : '!=', value });
    rest = rest.slice(m[0].length).trim();
  }
  return clauses;
}
