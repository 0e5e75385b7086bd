import type { Static } from '@sinclair/typebox';
import type { Kysely } from 'kysely';
import type { AppContext, Caller } from '../../context.js';
import type { DB, Role } from '../../db/schema.js';
import { groupBy } from '../../lib/group-by.js';
import { EXPERIMENT_LIMITS, MLFLOW_LIMITS } from '../../lib/limits.js';
import { toWire } from '../../lib/numbers.js';
import { decodeOffset, encodeOffset } from '../../lib/page-token.js';
import type { ExperimentStatus } from '../../lib/schemas.js';
import {
  experimentsInOrder,
  findExperiment,
  insertExperiment,
  parentByTag,
  runTagsOf,
  searchRunIds,
  setTrashed,
  updateExperiment,
} from '../experiments/experiments.rows.service.js';
import { newExperiment, type Experiment, type ExperimentPatch } from '../experiments/experiment.js';
import { seriesOfExperiments } from '../metrics/metrics.read.service.js';
import { experimentForCaller } from '../experiments/experiments.service.js';
import { doesNotExist, invalidParameter } from './mlflow.errors.js';
import { workspaceFor } from './mlflow.experiments.service.js';
import { parseFilter, parseOrderBy, type OrderKey, type TrashView } from '../experiments/filter.js';
import { crashedBefore, effectiveStatus } from '../experiments/status.js';
import { inputsAndOutputsOf } from './mlflow.datasets.service.js';
import * as repo from './mlflow.repository.js';
import { mergeRunInfo } from './mlflow.run-info.js';
import { checkEpochMs, JsonText, type KeyValue } from './mlflow.request.js';
import type { MlflowRun, MlflowRunInfo } from './mlflow.schemas.js';

/** An MLflow run is a Tora experiment: run_id = its id, run_name = its name, params = its hyperparameters. */
export type RunDto = Static<typeof MlflowRun>;
export type RunInfoDto = Static<typeof MlflowRunInfo>;

export const MLFLOW_STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] as const;
export type MlflowStatus = (typeof MLFLOW_STATUSES)[number];

/** MLflow's status → Tora's. KILLED is Tora's "crashed" (stopped without finishing). */
function toToraStatus(status: MlflowStatus): ExperimentStatus {
  switch (status) {
    case 'RUNNING':
    case 'SCHEDULED':
      return 'running';
    case 'FINISHED':
      return 'finished';
    case 'FAILED':
      return 'failed';
    case 'KILLED':
      return 'crashed';
  }
}

/** Tora's status → MLflow's: a running run silent past the crash timeout reads KILLED, as "crashed" on the dashboard. */
function toMlflowStatus(ctx: AppContext, row: Pick<Experiment, 'status' | 'lastActivityAt'>): MlflowStatus {
  const status = effectiveStatus(ctx, row);
  return status === 'running' ? 'RUNNING' : status === 'finished' ? 'FINISHED' : status === 'failed' ? 'FAILED' : 'KILLED';
}

/** A hyperparameter as MLflow's string param (Tora's own client may have logged a number or boolean). */
export function paramText(value: string | number | boolean | null | undefined): string {
  return value === null || value === undefined ? '' : String(value);
}

function paramsOf(row: Experiment): KeyValue[] {
  return row.hyperparams.map(({ key, value }) => ({ key, value: paramText(value) }));
}

/** Runs whose extras, tags and metrics are read in one round of queries (also under SQLite's bound-parameter cap). */
const RUN_CHUNK = 1000;

/**
 * The `runs` of a search's answer as JSON text, a chunk of runs at a time, yielding to other
 * requests between chunks so a 50,000-run answer never holds the event loop for long (built and
 * serialized in one go it held it for seconds).
 */
async function runsJson(ctx: AppContext, ids: readonly string[]): Promise<string> {
  const parts: string[] = [];
  for (let i = 0; i < ids.length; i += RUN_CHUNK) {
    if (i > 0) await new Promise((resolve) => setImmediate(resolve));
    const runs = await toRunDtos(ctx, await experimentsInOrder(ctx, ids.slice(i, i + RUN_CHUNK)));
    if (runs.length > 0) parts.push(JSON.stringify(runs).slice(1, -1));
  }
  return `[${parts.join(',')}]`;
}

/**
 * Builds run objects for rows, with their tags, params, latest metrics, MLflow extras, inputs and
 * outputs in six queries, joined through maps (linear in the rows, where a find/filter per row was
 * quadratic).
 */
async function toRunDtos(ctx: AppContext, rows: readonly Experiment[]): Promise<RunDto[]> {
  const ids = rows.map((r) => r.id);
  const [extras, tags, metrics, io] = await Promise.all([
    repo.findRunExtras(ctx.db, ids),
    runTagsOf(ctx.db, ids),
    seriesOfExperiments(ctx, ids),
    inputsAndOutputsOf(ctx, ids),
  ]);
  const extraOf = new Map(extras.map((x) => [x.experiment_id, x]));
  const tagsOf = groupBy(tags, (t) => t.experiment_id);
  const metricsOf = groupBy(metrics, (m) => m.experiment_id);
  return rows.map((row) => {
    const extra = extraOf.get(row.id);
    const runTags = (tagsOf.get(row.id) ?? []).map(({ key, value }) => ({ key, value }));
    const info: RunInfoDto = {
      run_id: row.id,
      run_uuid: row.id,
      experiment_id: row.workspaceId,
      run_name: row.name,
      // MLflow's store records "unknown" for a run created without a user.
      user_id: runTags.find((t) => t.key === 'mlflow.user')?.value || 'unknown',
      status: toMlflowStatus(ctx, row),
      start_time: row.createdAt,
      artifact_uri: `mlflow-artifacts:/${row.workspaceId}/${row.id}/artifacts`,
      lifecycle_stage: extra?.deleted_at == null ? 'active' : 'deleted',
    };
    if (extra?.end_time != null) info.end_time = extra.end_time;
    return {
      info,
      data: {
        metrics: (metricsOf.get(row.id) ?? []).map((m) => ({
          key: m.name,
          value: m.last_value === null ? 'NaN' : toWire(m.last_value),
          timestamp: m.updated_at,
          step: m.last_step,
        })),
        params: paramsOf(row),
        tags: [...runTags, { key: 'mlflow.runName', value: row.name }],
      },
      ...io.get(row.id)!,
    };
  });
}

/**
 * The run (experiment) if the caller has `min` on its workspace; MLflow's 404 otherwise. Unlike
 * Tora's routes, MLflow's see runs and workspaces deleted through MLflow (to get and restore them).
 */
export async function runForCaller(ctx: AppContext, caller: Caller, runId: string, min: Role): Promise<Experiment> {
  try {
    return (await experimentForCaller(ctx, caller, runId, min, { includeTrashed: true })).row;
  } catch (err) {
    if (err instanceof Error && 'status' in err && err.status === 404) throw doesNotExist(`Run with id=${runId} not found`);
    throw err;
  }
}

/** A run that may be written to: MLflow refuses writes to deleted runs. */
export async function activeRunForCaller(ctx: AppContext, caller: Caller, runId: string): Promise<Experiment> {
  const row = await runForCaller(ctx, caller, runId, 'editor');
  const [extra] = await repo.findRunExtras(ctx.db, [row.id]);
  if (extra?.deleted_at != null) {
    throw invalidParameter(`The run ${runId} must be in the 'active' state. Current state is deleted.`);
  }
  return row;
}

export async function createRun(
  ctx: AppContext,
  caller: Caller,
  input: { experimentId: string; runName?: string; startTime?: number; tags: KeyValue[] },
): Promise<RunDto> {
  checkEpochMs('start_time', input.startTime);
  const workspaceId = await workspaceFor(ctx, caller, input.experimentId, 'editor');
  const id = ctx.newId();
  const now = ctx.clock();
  const nameTag = input.tags.find((t) => t.key === 'mlflow.runName')?.value;
  const name = (input.runName || nameTag || `run-${id.slice(0, 8)}`).trim().slice(0, 200) || `run-${id.slice(0, 8)}`;
  const row = newExperiment({ id, workspaceId, name, createdBy: caller.userId, now, createdAt: input.startTime ?? now });
  await ctx.db.transaction().execute(async (trx) => {
    await insertExperiment(trx, row);
    await repo.upsertRunExtras(trx, id, {});
    await repo.setRunTags(
      trx,
      id,
      input.tags.filter((t) => t.key !== 'mlflow.runName'),
    );
    await syncRunInfo(trx, id);
    await syncRunGroup(trx, id);
  });
  return (await toRunDtos(ctx, [row]))[0]!;
}

export async function getRun(ctx: AppContext, caller: Caller, runId: string): Promise<RunDto> {
  return (await toRunDtos(ctx, [await runForCaller(ctx, caller, runId, 'viewer')]))[0]!;
}

export async function updateRun(
  ctx: AppContext,
  caller: Caller,
  runId: string,
  input: { status?: MlflowStatus; endTime?: number; runName?: string },
): Promise<RunInfoDto> {
  checkEpochMs('end_time', input.endTime);
  await activeRunForCaller(ctx, caller, runId);
  const now = ctx.clock();
  await ctx.db.transaction().execute(async (trx) => {
    const patch: ExperimentPatch = { updatedAt: now };
    if (input.status !== undefined) {
      patch.status = toToraStatus(input.status);
      patch.lastActivityAt = now;
    }
    if (input.runName) patch.name = input.runName.trim().slice(0, 200) || undefined;
    await updateExperiment(trx, runId, patch);
    if (input.endTime !== undefined) await repo.upsertRunExtras(trx, runId, { end_time: input.endTime });
  });
  return (await getRun(ctx, caller, runId)).info;
}

export async function setRunDeleted(ctx: AppContext, caller: Caller, runId: string, deleted: boolean): Promise<void> {
  await runForCaller(ctx, caller, runId, 'editor');
  await setTrashed(ctx, runId, deleted);
}

export async function deleteTag(ctx: AppContext, caller: Caller, runId: string, key: string): Promise<void> {
  await activeRunForCaller(ctx, caller, runId);
  if ((await repo.deleteRunTag(ctx.db, runId, key)) === 0) {
    throw doesNotExist(`No tag with name: ${key} in run with id ${runId}`);
  }
  await syncRunInfo(ctx.db, runId);
}

/** Recomputes the run's `runInfo` (shown as "Run info" on its page) from its MLflow system tags, in the caller's transaction. */
export async function syncRunInfo(db: Kysely<DB>, runId: string): Promise<void> {
  const row = await findExperiment(db, runId);
  if (!row) return;
  const tags = await runTagsOf(db, [runId]);
  const next = mergeRunInfo(row.runInfo, Object.fromEntries(tags.map((t) => [t.key, t.value])));
  if (JSON.stringify(next) !== JSON.stringify(row.runInfo)) await updateExperiment(db, runId, { runInfo: next });
}

/**
 * A nested run (tag `mlflow.parentRunId`: Optuna's trials, a sweep's runs under one parent run)
 * joins its parent's group, so the dashboard groups and bands the siblings: the group is the
 * parent's name when the parent is a run of the same workspace, else the parent id as given (a
 * name from another workspace would leak). A group the run already has is kept.
 */
export async function syncRunGroup(db: Kysely<DB>, runId: string): Promise<void> {
  const row = await parentByTag(db, runId, 'mlflow.parentRunId');
  const group = (row?.parentName ?? row?.parentId)?.trim().slice(0, EXPERIMENT_LIMITS.groupLength);
  if (!row || row.run_group !== null || !group) return;
  await updateExperiment(db, runId, { group });
}

/** Page tokens of the MLflow searches: the core's offset token, refused in MLflow's shape. */
export function decodeToken(token: string | undefined): number {
  const offset = decodeOffset(token);
  if (offset !== null) return offset;
  throw invalidParameter('Invalid page token: not one this server issued');
}

export async function searchRuns(
  ctx: AppContext,
  caller: Caller,
  q: { experimentIds: string[]; filter?: string; orderBy: string[]; view: TrashView; maxResults: number; pageToken?: string },
): Promise<JsonText> {
  const workspaceIds: string[] = [];
  for (const id of q.experimentIds) workspaceIds.push(await workspaceFor(ctx, caller, id, 'viewer'));
  const clauses = parseFilter(q.filter);
  const orderBy = q.orderBy.filter((o) => o.trim() !== '');
  if (orderBy.length > MLFLOW_LIMITS.orderByKeys) {
    throw invalidParameter(`order_by may name at most ${MLFLOW_LIMITS.orderByKeys} keys; got ${orderBy.length}`);
  }
  const order: OrderKey[] = orderBy.map(parseOrderBy);
  const offset = decodeToken(q.pageToken);
  const ids = await searchRunIds(ctx, {
    workspaceIds,
    clauses,
    order,
    view: q.view,
    crashedBefore: crashedBefore(ctx),
    offset,
    limit: q.maxResults + 1,
  });
  const runs = await runsJson(ctx, ids.slice(0, q.maxResults));
  const next = ids.length > q.maxResults ? `,"next_page_token":${JSON.stringify(encodeOffset(offset + q.maxResults))}` : '';
  return new JsonText(`{"runs":${runs}${next}}`);
}
