import type { Static } from '@sinclair/typebox';
import type { AppContext, Caller } from '../../context.js';
import type { MlflowLoggedModelMetricsTable, MlflowLoggedModelsTable, Role } from '../../db/schema.js';
import { groupBy } from '../../lib/group-by.js';
import { toWire } from '../../lib/numbers.js';
import { encodeOffset } from '../../lib/page-token.js';
import { findExperiment } from '../experiments/experiments.rows.service.js';
import { requireRole } from '../workspaces/access.js';
import { doesNotExist, invalidParameter } from './mlflow.errors.js';
import { workspaceFor } from './mlflow.experiments.service.js';
import { likeMatch } from './mlflow.like.js';
import * as repo from './mlflow.models.repository.js';
import { missing, type KeyValue } from './mlflow.request.js';
import { decodeToken } from './mlflow.runs.service.js';
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
  if (raw === undefined || raw === null || raw === '') missing('status');
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

/** A point logged with the model's id, as MLflow answers it among the model's `metrics`. */
export type ModelMetricDto = LoggedModelDto['data']['metrics'][number];

function toModelMetricDto(row: MlflowLoggedModelMetricsTable): ModelMetricDto {
  const dto: ModelMetricDto = {
    key: row.key,
    value: toWire(row.value === null ? NaN : Number(row.value)),
    timestamp: Number(row.timestamp),
    step: Number(row.step),
    run_id: row.run_id,
    model_id: row.model_id,
  };
  if (row.dataset_name !== '') dto.dataset_name = row.dataset_name;
  if (row.dataset_digest !== '') dto.dataset_digest = row.dataset_digest;
  return dto;
}

/** Models with their metrics, read in one query. */
async function withMetrics(ctx: AppContext, rows: readonly MlflowLoggedModelsTable[]): Promise<LoggedModelDto[]> {
  const metrics = groupBy(
    await repo.modelMetricsOf(
      ctx.db,
      rows.map((r) => r.id),
    ),
    (m) => m.model_id,
  );
  return rows.map((row) => {
    const dto = toLoggedModelDto(row);
    dto.data.metrics = (metrics.get(row.id) ?? []).map(toModelMetricDto);
    return dto;
  });
}

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
  const sourceRunId = sourceRunIdOf(row);
  if (sourceRunId !== null) info.source_run_id = sourceRunId;
  return { info, data: { params: JSON.parse(row.params) as KeyValue[], metrics: [] } };
}

/** The run the model says it came from: the `source_run_id` it was created with, kept as given. */
export function sourceRunIdOf(row: Pick<MlflowLoggedModelsTable, 'given_source_run_id' | 'source_run_id'>): string | null {
  return row.given_source_run_id ?? row.source_run_id;
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
  // Any source_run_id is kept and answered, as MLflow keeps it; only a run of this experiment
  // holds the model's files beside its own (and takes the model with it when deleted).
  const ownRun =
    input.sourceRunId !== undefined && (await findExperiment(ctx.db, input.sourceRunId))?.workspaceId === workspaceId
      ? input.sourceRunId
      : null;
  const id = `m-${ctx.newId().replace(/-/g, '')}`;
  const now = ctx.clock();
  const row: MlflowLoggedModelsTable = {
    id,
    workspace_id: workspaceId,
    source_run_id: ownRun,
    given_source_run_id: input.sourceRunId ?? null,
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
  const [dto] = await withMetrics(ctx, [await modelForCaller(ctx, caller, id, 'viewer')]);
  return dto!;
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

/** The tag in which MLflow lists the registered versions of a logged model. */
export const MODEL_VERSIONS_TAG = 'mlflow.modelVersions';

interface VersionRef {
  name: string;
  version: number;
}

function isVersionRef(x: unknown): x is VersionRef {
  if (typeof x !== 'object' || x === null) return false;
  const r = x as Record<string, unknown>;
  return typeof r.name === 'string' && Number.isSafeInteger(r.version);
}

/** JSON as Python's json.dumps writes it (", " and ": " between items, non-ASCII escaped), as MLflow's clients compare it. */
function pythonJson(refs: readonly VersionRef[]): string {
  const str = (s: string) =>
    JSON.stringify(s).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `[${refs.map((r) => `{"name": ${str(r.name)}, "version": ${r.version}}`).join(', ')}]`;
}

/**
 * Adds a registered version to the logged model's `mlflow.modelVersions` tag, as MLflow's server
 * does when a version is created from a model (`model_id`); in the version's own transaction.
 */
export async function addModelVersionTag(db: AppContext['db'], id: string, ref: VersionRef, now: number): Promise<void> {
  const row = await repo.findLoggedModel(db, id);
  if (!row) return;
  const tags = JSON.parse(row.tags) as KeyValue[];
  let refs: VersionRef[] = [];
  const current = tags.find((t) => t.key === MODEL_VERSIONS_TAG)?.value;
  if (current !== undefined) {
    try {
      const parsed: unknown = JSON.parse(current);
      if (Array.isArray(parsed)) refs = parsed.filter(isVersionRef);
    } catch {
      // A value set by hand that is no list starts a new one, as MLflow's does.
    }
  }
  const value = pythonJson([...refs, ref]);
  await repo.updateLoggedModel(db, id, {
    tags: JSON.stringify(merge(tags, [{ key: MODEL_VERSIONS_TAG, value }])),
    updated_at: now,
  });
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
  q: {
    experimentIds: string[];
    filter?: string;
    datasets?: repo.DatasetFilter[];
    orderBy?: ModelOrder[];
    maxResults: number;
    pageToken?: string;
  },
): Promise<{ models: LoggedModelDto[]; next_page_token?: string }> {
  const { where, entities } = parseModelFilter(q.filter);
  const datasets = q.datasets ?? [];
  const workspaceIds: string[] = [];
  for (const id of q.experimentIds) workspaceIds.push(await workspaceFor(ctx, caller, id, 'viewer'));
  const offset = decodeToken(q.pageToken);
  const orderBy = q.orderBy ?? [];
  if (entities.length > 0 || orderBy.length > 0) {
    // Metric, param and tag clauses and orders are checked on the models themselves (an experiment holds few).
    const all = await repo.searchLoggedModels(ctx.db, { workspaceIds, where, datasets, offset: 0, limit: null });
    const matching = (await withMetrics(ctx, all)).filter((m) => entities.every((e) => entityMatches(e, m, datasets)));
    if (orderBy.length > 0) matching.sort(modelComparator(orderBy));
    const models = matching.slice(offset, offset + q.maxResults);
    return matching.length > offset + q.maxResults
      ? { models, next_page_token: encodeOffset(offset + q.maxResults) }
      : { models };
  }
  const rows = await repo.searchLoggedModels(ctx.db, { workspaceIds, where, datasets, offset, limit: q.maxResults + 1 });
  const models = await withMetrics(ctx, rows.slice(0, q.maxResults));
  return rows.length > q.maxResults ? { models, next_page_token: encodeOffset(offset + q.maxResults) } : { models };
}

/** One `order_by` entry of logged-model search: an attribute, or `metrics.<key>` (its latest value, on a dataset when named). */
export interface ModelOrder {
  field: string;
  ascending: boolean;
  datasetName?: string;
  datasetDigest?: string;
}

const ORDER_ATTRIBUTES: Record<string, (m: LoggedModelDto) => string | number | undefined> = {
  name: (m) => m.info.name,
  model_id: (m) => m.info.model_id,
  creation_timestamp_ms: (m) => m.info.creation_timestamp_ms,
  creation_time: (m) => m.info.creation_timestamp_ms,
  creation_timestamp: (m) => m.info.creation_timestamp_ms,
  last_updated_timestamp_ms: (m) => m.info.last_updated_timestamp_ms,
  last_updated_time: (m) => m.info.last_updated_timestamp_ms,
  last_updated_timestamp: (m) => m.info.last_updated_timestamp_ms,
  model_type: (m) => m.info.model_type,
  status: (m) => m.info.status,
  source_run_id: (m) => m.info.source_run_id,
};

/** Checks an order_by entry's field as MLflow does (attributes, or metrics.<key>); its 400 otherwise. */
export function checkModelOrder(order: ModelOrder): ModelOrder {
  if (!order.field.startsWith('metrics.') && ORDER_ATTRIBUTES[order.field] === undefined) {
    throw invalidParameter(`Invalid order by field name: ${order.field}`);
  }
  return order;
}

/**
 * MLflow's order: each entry in turn, a missing value last either way; a metric by its latest
 * point (time, then step) of that name; then newest first and by id.
 */
function modelComparator(orders: readonly ModelOrder[]): (a: LoggedModelDto, b: LoggedModelDto) => number {
  const valueOf = (o: ModelOrder, m: LoggedModelDto): string | number | undefined => {
    if (!o.field.startsWith('metrics.')) return ORDER_ATTRIBUTES[o.field]!(m);
    const key = o.field.slice('metrics.'.length);
    let latest: ModelMetricDto | undefined;
    for (const p of m.data.metrics) {
      if (p.key !== key || (o.datasetName !== undefined && p.dataset_name !== o.datasetName)) continue;
      if (o.datasetDigest !== undefined && p.dataset_digest !== o.datasetDigest) continue;
      if (latest === undefined || p.timestamp > latest.timestamp || (p.timestamp === latest.timestamp && p.step > latest.step))
        latest = p;
    }
    return latest === undefined || typeof latest.value !== 'number' ? undefined : latest.value;
  };
  return (a, b) => {
    for (const o of orders) {
      const x = valueOf(o, a);
      const y = valueOf(o, b);
      if (x === y) continue;
      if (x === undefined) return 1;
      if (y === undefined) return -1;
      return (x < y ? -1 : 1) * (o.ascending ? 1 : -1);
    }
    return b.info.creation_timestamp_ms - a.info.creation_timestamp_ms || (a.info.model_id < b.info.model_id ? -1 : 1);
  };
}

function attributeOf(model: LoggedModelDto, column: repo.ModelFilterColumn): string | undefined {
  return column === 'id' ? model.info.model_id : model.info[column];
}

/** A clause on a model's metrics (numbers), params or tags (strings), or an attribute's LIKE, as MLflow's logged-model filter has them. */
export interface EntityFilter {
  entity: 'metrics' | 'params' | 'tags' | 'attributes';
  key: string;
  op: string;
  value: string | number;
}

const NUMERIC_OPS = ['=', '!=', '<', '<=', '>', '>='];
const STRING_OPS = ['=', '!=', 'LIKE', 'ILIKE'];

function compares(op: string, value: string | number, against: string | number): boolean {
  switch (op) {
    case '=':
      return against === value;
    case '!=':
      return against !== value;
    case '<':
      return against < value;
    case '<=':
      return against <= value;
    case '>':
      return against > value;
    case '>=':
      return against >= value;
    default:
      return likeMatch(String(value), String(against), op === 'ILIKE');
  }
}

/**
 * MLflow's rule: a model matches a metric clause when any of its points of that name (on one of
 * the search's datasets, when it names some) compares true; a param or tag clause, its value.
 */
function entityMatches(e: EntityFilter, model: LoggedModelDto, datasets: readonly repo.DatasetFilter[]): boolean {
  if (e.entity === 'metrics') {
    return model.data.metrics.some(
      (m) =>
        m.key === e.key &&
        typeof m.value === 'number' &&
        compares(e.op, e.value, m.value) &&
        (datasets.length === 0 ||
          datasets.some((d) => d.name === m.dataset_name && (d.digest === undefined || d.digest === m.dataset_digest))),
    );
  }
  if (e.entity === 'attributes') {
    const value = attributeOf(model, e.key as repo.ModelFilterColumn);
    return value !== undefined && compares(e.op, e.value, value);
  }
  const list = e.entity === 'params' ? model.data.params : model.info.tags;
  const found = list.find((kv) => kv.key === e.key);
  return found !== undefined && compares(e.op, e.value, found.value);
}

const FILTER_COLUMNS: Record<string, repo.ModelFilterColumn> = {
  name: 'name',
  model_id: 'id',
  source_run_id: 'source_run_id',
  model_type: 'model_type',
  status: 'status',
};

const QUOTED = String.raw`'(?:[^']|'')*'|"(?:[^"]|"")*"`;

function unquote(text: string): string {
  const q = text[0]!;
  return text.slice(1, -1).replaceAll(q + q, q);
}

/**
 * MLflow's logged-model filter on attributes: clauses joined by AND, each an attribute compared
 * with `=` or `!=` to a quoted string, or with `IN`/`NOT IN` to a parenthesised list of them
 * (what the client sends to resolve a `runs:/<run>/<name>` URI, and what users filter on).
 *
 * @example parseModelFilter("name IN ('a', 'b') AND source_run_id = 'r1'") // [{column: 'name', op: 'in', values: ['a', 'b']}, …]
 */
export function parseModelFilter(filter: string | undefined): { where: repo.ModelFilter[]; entities: EntityFilter[] } {
  const clauses: repo.ModelFilter[] = [];
  const entities: EntityFilter[] = [];
  const entityClause = new RegExp(
    String.raw`^(metrics|params|tags)\.(\x60[^\x60]+\x60|"[^"]+"|[\w.\-/]+)\s*(<=|>=|!=|=|<|>|ilike|like)\s*(${QUOTED}|-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)\s*(?:and\s+(?=\S)|$)`,
    'i',
  );
  let rest = (filter ?? '').trim();
  const clause = new RegExp(
    String.raw`^(?:attributes\.)?([a-z_]+)\s*(?:(=|!=|like|ilike)\s*(${QUOTED})|(not\s+in|in)\s*\(\s*((?:${QUOTED})(?:\s*,\s*(?:${QUOTED}))*)\s*,?\s*\))\s*(?:and\s+(?=\S)|$)`,
    'i',
  );
  while (rest !== '') {
    const e = entityClause.exec(rest);
    if (e) {
      const entity = e[1]!.toLowerCase() as EntityFilter['entity'];
      const key = /^[\x60"]/.test(e[2]!) ? e[2]!.slice(1, -1) : e[2]!;
      const op = e[3]!.toUpperCase();
      const quoted = /^['"]/.test(e[4]!);
      if (entity === 'metrics' ? quoted || !NUMERIC_OPS.includes(op) : !quoted || !STRING_OPS.includes(op)) {
        throw invalidParameter(
          entity === 'metrics'
            ? `Invalid comparison for metrics.${key}: compare a number with ${NUMERIC_OPS.join(', ')}`
            : `Invalid comparison for ${entity}.${key}: compare a quoted string with ${STRING_OPS.join(', ')}`,
        );
      }
      entities.push({ entity, key, op, value: quoted ? unquote(e[4]!) : Number(e[4]) });
      rest = rest.slice(e[0].length).trim();
      continue;
    }
    const m = clause.exec(rest);
    const column = m ? FILTER_COLUMNS[m[1]!.toLowerCase()] : undefined;
    if (!m || column === undefined) {
      throw invalidParameter(
        `Unsupported logged model filter '${filter ?? ''}': this server takes ${Object.keys(FILTER_COLUMNS).join(', ')} compared with = or != to a quoted string, or with IN or NOT IN to a list of them; metrics.<key> compared with a number; params.<key> and tags.<key> with =, !=, LIKE or ILIKE to a quoted string; joined by AND`,
      );
    }
    if (m[2] !== undefined && /like/i.test(m[2])) {
      // LIKE is matched on the models themselves, as SQL LIKE differs between the databases.
      entities.push({ entity: 'attributes', key: column, op: m[2].toUpperCase(), value: unquote(m[3]!) });
    } else if (m[2] !== undefined) {
      clauses.push({ column, op: m[2] === '=' ? 'in' : 'not in', values: [unquote(m[3]!)] });
    } else {
      const values = [...m[5]!.matchAll(new RegExp(QUOTED, 'g'))].map((v) => unquote(v[0]));
      clauses.push({ column, op: /^in$/i.test(m[4]!) ? 'in' : 'not in', values });
    }
    rest = rest.slice(m[0].length).trim();
  }
  return { where: clauses, entities };
}
