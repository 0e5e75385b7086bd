import type { Static } from '@sinclair/typebox';
import type { AppContext, Caller } from '../../context.js';
import type { Role } from '../../db/schema.js';
import { badRequest, notFound } from '../../errors.js';
import { EXPERIMENT_LIMITS } from '../../lib/limits.js';
import { toWire } from '../../lib/numbers.js';
import { decodeOffset, encodeOffset } from '../../lib/page-token.js';
import { iso, isStatus } from '../../lib/schemas.js';
import { readableWorkspaceIds, readableWorkspaces, requireRole, type Visibility } from '../workspaces/access.js';
import { seriesSummaries } from '../metrics/metrics.repository.js';
import { removeRunFiles } from '../artifacts/artifacts.store.js';
import { findUserById } from '../auth/auth.repository.js';
import { newExperiment, type Experiment, type ExperimentPatch } from './experiment.js';
import * as repo from './experiments.repository.js';
import type {
  BulkBody,
  BulkResult,
  CreateExperimentBody,
  Experiment as ExperimentSchema,
  ListQuery,
  UpdateExperimentBody,
} from './experiments.schemas.js';
import { normalizeHyperparams } from './hyperparams.js';
import { FilterError, parseFilter, type Clause } from './filter.js';
import { crashedBefore, effectiveStatus } from './status.js';
import { anyTrashed } from './trash.repository.js';

export type ExperimentDto = Static<typeof ExperimentSchema>;
type Summary = Awaited<ReturnType<typeof seriesSummaries>>[number];

const EXPERIMENT_MISSING = { code: 'EXPERIMENT_NOT_FOUND', what: 'Experiment' } as const;

/**
 * The references the caller may see among these rows': a reference into a workspace the caller is
 * not a member of shows as null, so its id does not leak.
 */
export async function visibleReferences(
  ctx: AppContext,
  caller: Caller,
  experiments: readonly Pick<Experiment, 'referenceId'>[],
): Promise<ReadonlySet<string>> {
  const refs = [...new Set(experiments.flatMap((e) => (e.referenceId === null ? [] : [e.referenceId])))];
  const found = await repo.findLiveExperiments(ctx.db, refs);
  const readable = await readableWorkspaces(ctx.db, caller.userId, [...new Set(found.map((e) => e.workspaceId))]);
  return new Set(found.filter((e) => readable.has(e.workspaceId)).map((e) => e.id));
}

function toExperimentDto(
  ctx: AppContext,
  e: Experiment,
  series: readonly Summary[],
  visibleRefs: ReadonlySet<string>,
): ExperimentDto {
  const latestMetrics: ExperimentDto['latestMetrics'] = {};
  const minMetrics: ExperimentDto['minMetrics'] = {};
  const maxMetrics: ExperimentDto['maxMetrics'] = {};
  for (const s of series) {
    latestMetrics[s.name] = s.last_value === null ? 'NaN' : toWire(s.last_value);
    // Extremes are over non-NaN values: null while every value is NaN.
    minMetrics[s.name] = s.min_value === null ? null : toWire(s.min_value);
    maxMetrics[s.name] = s.max_value === null ? null : toWire(s.max_value);
  }
  return {
    id: e.id,
    name: e.name,
    description: e.description === '' ? null : e.description,
    hyperparams: e.hyperparams,
    tags: e.tags,
    status: effectiveStatus(ctx, e),
    workspaceId: e.workspaceId,
    workspace_id: e.workspaceId,
    referenceId: e.referenceId !== null && visibleRefs.has(e.referenceId) ? e.referenceId : null,
    group: e.group,
    runInfo: e.runInfo,
    createdAt: iso(e.createdAt)!,
    updatedAt: iso(e.updatedAt)!,
    lastActivityAt: iso(e.lastActivityAt)!,
    availableMetrics: series.map((s) => s.name),
    latestMetrics,
    minMetrics,
    maxMetrics,
  };
}

/**
 * Loads an experiment the caller may act on with at least `min`; non-members get 404, as does a
 * trashed experiment (or one in a trashed workspace) unless `visibility` includes them (MLflow's routes).
 */
export async function experimentForCaller(
  ctx: AppContext,
  caller: Caller,
  id: string,
  min: Role,
  visibility: Visibility = { includeTrashed: false },
): Promise<{ row: Experiment; role: Role }> {
  const row = visibility.includeTrashed ? await repo.findExperiment(ctx.db, id) : await repo.findLiveExperiment(ctx.db, id);
  if (!row) throw notFound('EXPERIMENT_NOT_FOUND', 'Experiment');
  const role = await requireRole(ctx.db, caller.userId, row.workspaceId, min, { ...visibility, missing: EXPERIMENT_MISSING });
  return { row, role };
}

async function withSeries(ctx: AppContext, caller: Caller, row: Experiment): Promise<ExperimentDto> {
  const [series, refs] = await Promise.all([seriesSummaries(ctx.db, [row.id]), visibleReferences(ctx, caller, [row])]);
  return toExperimentDto(ctx, row, series, refs);
}

function groupOf(group: string | null | undefined): string | null {
  return group?.trim() || null;
}

function uniqueTags(tags: readonly string[] | null | undefined): string[] {
  return [...new Set((tags ?? []).map((t) => t.trim()).filter(Boolean))];
}

export async function createExperiment(
  ctx: AppContext,
  caller: Caller,
  body: Static<typeof CreateExperimentBody>,
): Promise<ExperimentDto> {
  let workspaceId = body.workspaceId;
  if (workspaceId === undefined || workspaceId === null || workspaceId === 'API_DEFAULT') {
    const user = await findUserById(ctx.db, caller.userId);
    if (!user?.default_workspace_id) {
      throw badRequest('You have no default workspace; pass workspaceId', [{ path: 'body.workspaceId', message: 'required' }]);
    }
    workspaceId = user.default_workspace_id;
  }
  await requireRole(ctx.db, caller.userId, workspaceId, 'editor');
  if (body.referenceId) await experimentForCaller(ctx, caller, body.referenceId, 'viewer');
  const now = ctx.clock();
  // The request's visibility is ignored: see Visibility in experiments.schemas.ts.
  const row = newExperiment({
    id: ctx.newId(),
    workspaceId,
    name: body.name.trim(),
    createdBy: caller.userId,
    now,
    description: body.description ?? '',
    hyperparams: normalizeHyperparams(body.hyperparams),
    tags: uniqueTags(body.tags),
    status: body.status ?? 'running',
    referenceId: body.referenceId ?? null,
    group: groupOf(body.group),
    runInfo: body.runInfo ?? {},
  });
  await ctx.db.transaction().execute((trx) => repo.insertExperiment(trx, row));
  return toExperimentDto(ctx, row, [], await visibleReferences(ctx, caller, [row]));
}

export async function getExperiment(ctx: AppContext, caller: Caller, id: string): Promise<ExperimentDto> {
  const { row } = await experimentForCaller(ctx, caller, id, 'viewer');
  return withSeries(ctx, caller, row);
}

export async function updateExperiment(
  ctx: AppContext,
  caller: Caller,
  id: string,
  body: Static<typeof UpdateExperimentBody>,
): Promise<ExperimentDto> {
  await experimentForCaller(ctx, caller, id, 'editor');
  const now = ctx.clock();
  const patch: ExperimentPatch = { updatedAt: now };
  if (body.name !== undefined) patch.name = body.name.trim();
  if (body.description !== undefined) patch.description = body.description ?? '';
  if (body.group !== undefined) patch.group = groupOf(body.group);
  if (body.runInfo !== undefined) patch.runInfo = body.runInfo;
  if (body.status !== undefined) {
    patch.status = body.status;
    patch.lastActivityAt = now;
  }
  if (body.hyperparams !== undefined) patch.hyperparams = normalizeHyperparams(body.hyperparams);
  if (body.tags !== undefined) patch.tags = uniqueTags(body.tags);
  await ctx.db.transaction().execute((trx) => repo.updateExperiment(trx, id, patch));
  const row = await repo.findExperiment(ctx.db, id);
  if (!row) throw notFound('EXPERIMENT_NOT_FOUND', 'Experiment');
  return withSeries(ctx, caller, row);
}

export async function deleteExperiment(ctx: AppContext, caller: Caller, id: string): Promise<void> {
  const { row } = await experimentForCaller(ctx, caller, id, 'editor');
  await ctx.db.transaction().execute((trx) => repo.deleteExperiments(trx, { id }));
  await removeRunFiles(ctx.blobs, row.workspaceId, id);
}

const MAX_TAGS = EXPERIMENT_LIMITS.tagsPerExperiment;

/**
 * Deletes, tags or untags many experiments at once: every id is checked first (editor in its
 * workspace; an unknown or unreadable one is a 404, a viewer's a 403) and the writes happen in
 * one transaction, so a refused request changes nothing.
 *
 * @example await bulkExperiments(ctx, caller, { ids: [a, b], action: 'tag', tags: ['ablation'] }) // { count: 2 }
 */
export async function bulkExperiments(
  ctx: AppContext,
  caller: Caller,
  body: Static<typeof BulkBody>,
): Promise<Static<typeof BulkResult>> {
  const tags = uniqueTags(body.tags);
  if (body.action !== 'delete' && tags.length === 0) {
    throw badRequest(`body.tags: name the tags to ${body.action === 'tag' ? 'add' : 'remove'}`, [
      { path: 'body.tags', message: `required for ${body.action}` },
    ]);
  }
  const rows: Experiment[] = [];
  for (const id of body.ids) rows.push((await experimentForCaller(ctx, caller, id, 'editor')).row);
  const now = ctx.clock();
  await ctx.db.transaction().execute(async (trx) => {
    for (const id of body.ids) {
      if (body.action === 'delete') {
        await repo.deleteExperiments(trx, { id });
        continue;
      }
      const row = await repo.findExperiment(trx, id);
      if (!row) throw notFound('EXPERIMENT_NOT_FOUND', 'Experiment');
      const next = body.action === 'tag' ? uniqueTags([...row.tags, ...tags]) : row.tags.filter((t) => !tags.includes(t));
      if (next.length > MAX_TAGS) {
        throw badRequest(`body.tags: ${row.name} would have more than ${MAX_TAGS} tags`, [
          { path: 'body.tags', message: `at most ${MAX_TAGS} tags per experiment` },
        ]);
      }
      await repo.updateExperiment(trx, id, { tags: next, updatedAt: now });
    }
  });
  if (body.action === 'delete') for (const row of rows) await removeRunFiles(ctx.blobs, row.workspaceId, row.id);
  return { success: true, action: body.action, count: body.ids.length };
}

function decodeCursor(cursor: string | undefined): number {
  const offset = decodeOffset(cursor);
  if (offset !== null) return offset;
  throw badRequest('query.cursor is not a cursor this server issued', [{ path: 'query.cursor', message: 'invalid cursor' }]);
}

/**
 * The list's filters (workspace, name, group, tags, status, MLflow's filter grammar) after checking
 * the caller may read the workspace asked for: what the list and its grouping share.
 */
export async function listFilterFor(
  ctx: AppContext,
  caller: Caller,
  query: Omit<Static<typeof ListQuery>, 'sort' | 'order' | 'cursor' | 'limit'>,
): Promise<repo.ListFilter> {
  let workspaceIds: string[];
  if (query.workspace) {
    await requireRole(ctx.db, caller.userId, query.workspace, 'viewer');
    workspaceIds = [query.workspace];
  } else {
    workspaceIds = await readableWorkspaceIds(ctx.db, caller.userId);
  }
  const rawTags = query.tags === undefined ? [] : Array.isArray(query.tags) ? query.tags : query.tags.split(',');
  const tags = uniqueTags(rawTags);
  const statuses = query.status ? query.status.split(',').filter(isStatus) : [];
  let clauses: Clause[];
  try {
    clauses = parseFilter(query.filter);
  } catch (err) {
    if (err instanceof FilterError)
      throw badRequest(`query.filter ${err.message}`, [{ path: 'query.filter', message: err.message }]);
    throw err;
  }
  return {
    workspaceIds,
    nameContains: query.startwith?.trim() || undefined,
    group: query.group?.trim() || undefined,
    tags,
    statuses,
    crashedBefore: crashedBefore(ctx),
    clauses,
    hideTrashed: await anyTrashed(ctx.db, workspaceIds),
  };
}

export async function listExperiments(
  ctx: AppContext,
  caller: Caller,
  query: Static<typeof ListQuery>,
): Promise<{ experiments: ExperimentDto[]; nextCursor: string | null; total: number }> {
  const filter = await listFilterFor(ctx, caller, query);
  const descending = query.sort?.startsWith('-') ?? false;
  const sortParam = (descending ? query.sort?.slice(1) : query.sort) ?? 'created';
  const metricSort = /^metric(|-min|-max):(.+)$/s.exec(sortParam);
  const sort: repo.ListSort = metricSort
    ? {
        by: 'metric',
        metric: metricSort[2]!,
        value: metricSort[1] === '-min' ? 'min' : metricSort[1] === '-max' ? 'max' : 'last',
      }
    : sortParam.startsWith('hp:')
      ? { by: 'hp', key: sortParam.slice('hp:'.length) }
      : { by: sortParam as 'created' | 'updated' | 'name' | 'status' };
  // Names, statuses and hyperparameters read naturally A→Z / small→large; times and metrics newest/largest first.
  const ascendingByDefault = sort.by === 'name' || sort.by === 'status' || sort.by === 'hp';
  const order = query.order ?? (descending ? 'desc' : ascendingByDefault ? 'asc' : 'desc');
  const limit = query.limit ?? 50;
  const offset = decodeCursor(query.cursor);
  const [rows, total] = await Promise.all([
    repo.listExperiments(ctx.db, ctx.dialect, { ...filter, sort, order, offset, limit: limit + 1 }),
    repo.countExperiments(ctx.db, ctx.dialect, filter),
  ]);
  const page = rows.slice(0, limit);
  const [series, refs] = await Promise.all([
    seriesSummaries(
      ctx.db,
      page.map((r) => r.id),
    ),
    visibleReferences(ctx, caller, page),
  ]);
  const byExperiment = new Map<string, Summary[]>();
  for (const s of series) {
    const list = byExperiment.get(s.experiment_id) ?? [];
    list.push(s);
    byExperiment.set(s.experiment_id, list);
  }
  return {
    experiments: page.map((r) => toExperimentDto(ctx, r, byExperiment.get(r.id) ?? [], refs)),
    nextCursor: rows.length > limit ? encodeOffset(offset + limit) : null,
    total,
  };
}
