import { sql, type Kysely } from 'kysely';
import type { DialectHelpers } from '../../db/dialect.js';
import type { DB, ExperimentsTable } from '../../db/schema.js';
import type { Clause, OrderKey } from './mlflow.filter.js';
import { filterSql, orderValueSql } from './mlflow.filter-sql.js';
import { mergeRunInfo } from './mlflow.run-info.js';

/** SQL of the MLflow module. Access is checked by the services before any of these run. */

export type ViewType = 'active' | 'deleted' | 'all';

// ---- experiments (Tora workspaces) ----

export function memberWorkspaces(db: Kysely<DB>, userId: string) {
  return db
    .selectFrom('workspaces as w')
    .innerJoin('workspace_members as m', 'm.workspace_id', 'w.id')
    .leftJoin('mlflow_experiments as x', 'x.workspace_id', 'w.id')
    .select(['w.id', 'w.name', 'w.created_at', 'w.updated_at', 'm.role', 'x.deleted_at'])
    .where('m.user_id', '=', userId)
    .orderBy('w.created_at')
    .orderBy('w.id')
    .execute();
}

export type WorkspaceRow = Awaited<ReturnType<typeof memberWorkspaces>>[number];

export function workspaceState(db: Kysely<DB>, workspaceId: string) {
  return db
    .selectFrom('workspaces as w')
    .leftJoin('mlflow_experiments as x', 'x.workspace_id', 'w.id')
    .select(['w.id', 'w.name', 'w.created_at', 'w.updated_at', 'x.deleted_at'])
    .where('w.id', '=', workspaceId)
    .executeTakeFirst();
}

export async function setWorkspaceDeleted(db: Kysely<DB>, workspaceId: string, deletedAt: number | null): Promise<void> {
  await db
    .insertInto('mlflow_experiments')
    .values({ workspace_id: workspaceId, deleted_at: deletedAt })
    .onConflict((oc) => oc.column('workspace_id').doUpdateSet({ deleted_at: deletedAt }))
    .execute();
}

/** Whether some user has this workspace as their default (where runs without a workspace go). */
export async function isDefaultWorkspace(db: Kysely<DB>, workspaceId: string): Promise<boolean> {
  const row = await db.selectFrom('users').select('id').where('default_workspace_id', '=', workspaceId).executeTakeFirst();
  return row !== undefined;
}

export async function experimentTags(db: Kysely<DB>, workspaceIds: readonly string[]) {
  if (workspaceIds.length === 0) return [];
  return db.selectFrom('mlflow_experiment_tags').selectAll().where('workspace_id', 'in', workspaceIds).orderBy('key').execute();
}

export async function setExperimentTag(db: Kysely<DB>, workspaceId: string, key: string, value: string): Promise<void> {
  await db
    .insertInto('mlflow_experiment_tags')
    .values({ workspace_id: workspaceId, key, value })
    .onConflict((oc) => oc.columns(['workspace_id', 'key']).doUpdateSet({ value }))
    .execute();
}

// ---- runs (Tora experiments) ----

/** A run of a workspace carrying a tag with this value (the import's source marker). */
export async function findRunByTag(db: Kysely<DB>, workspaceId: string, key: string, value: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('mlflow_run_tags as t')
    .innerJoin('experiments as e', 'e.id', 't.experiment_id')
    .select('e.id')
    .where('e.workspace_id', '=', workspaceId)
    .where('t.key', '=', key)
    .where('t.value', '=', value)
    .executeTakeFirst();
  return row?.id;
}

export function findRunExtras(db: Kysely<DB>, experimentIds: readonly string[]) {
  if (experimentIds.length === 0) return Promise.resolve([]);
  return db.selectFrom('mlflow_runs').selectAll().where('experiment_id', 'in', experimentIds).execute();
}

export async function upsertRunExtras(
  db: Kysely<DB>,
  experimentId: string,
  patch: { end_time?: number | null; deleted_at?: number | null },
): Promise<void> {
  const row = { experiment_id: experimentId, end_time: patch.end_time ?? null, deleted_at: patch.deleted_at ?? null };
  await db
    .insertInto('mlflow_runs')
    .values(row)
    .onConflict((oc) =>
      Object.keys(patch).length === 0 ? oc.column('experiment_id').doNothing() : oc.column('experiment_id').doUpdateSet(patch),
    )
    .execute();
}

export function runTags(db: Kysely<DB>, experimentIds: readonly string[]) {
  if (experimentIds.length === 0) return Promise.resolve([]);
  return db.selectFrom('mlflow_run_tags').selectAll().where('experiment_id', 'in', experimentIds).orderBy('key').execute();
}

export async function setRunTags(db: Kysely<DB>, experimentId: string, tags: readonly { key: string; value: string }[]) {
  for (const { key, value } of tags) {
    await db
      .insertInto('mlflow_run_tags')
      .values({ experiment_id: experimentId, key, value })
      .onConflict((oc) => oc.columns(['experiment_id', 'key']).doUpdateSet({ value }))
      .execute();
  }
}

/** Recomputes the run's `runInfo` (shown as "Run info" on its page) from its MLflow system tags. */
export async function syncRunInfo(db: Kysely<DB>, experimentId: string): Promise<void> {
  const row = await db.selectFrom('experiments').select('run_info').where('id', '=', experimentId).executeTakeFirst();
  if (!row) return;
  const tags = await db
    .selectFrom('mlflow_run_tags')
    .select(['key', 'value'])
    .where('experiment_id', '=', experimentId)
    .execute();
  const current = JSON.parse(row.run_info) as Record<string, string>;
  const next = JSON.stringify(mergeRunInfo(current, Object.fromEntries(tags.map((t) => [t.key, t.value]))));
  if (next !== row.run_info) await db.updateTable('experiments').set({ run_info: next }).where('id', '=', experimentId).execute();
}

export async function deleteRunTag(db: Kysely<DB>, experimentId: string, key: string): Promise<number> {
  const result = await db
    .deleteFrom('mlflow_run_tags')
    .where('experiment_id', '=', experimentId)
    .where('key', '=', key)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** The experiment row, locked for the rest of the transaction where the database has row locks. */
export function lockExperiment(db: Kysely<DB>, dialect: DialectHelpers, id: string) {
  const q = db.selectFrom('experiments').selectAll().where('id', '=', id);
  return (dialect.rowLocks ? q.forUpdate() : q).executeTakeFirst();
}

/** Adds params (already known to be new) to an experiment's hyperparameters, both forms. */
export async function addParams(
  db: Kysely<DB>,
  experimentId: string,
  hyperparamsJson: string,
  params: readonly { key: string; value: string }[],
): Promise<void> {
  await db.updateTable('experiments').set({ hyperparams: hyperparamsJson }).where('id', '=', experimentId).execute();
  for (let i = 0; i < params.length; i += 200) {
    await db
      .insertInto('experiment_hyperparams')
      .values(
        params.slice(i, i + 200).map(({ key, value }) => {
          // Text as logged (MLflow params are strings), and its number when it is one, so filters and sorts can compare numerically.
          const n = value.trim() === '' ? NaN : Number(value);
          return { experiment_id: experimentId, key, text_value: value, num_value: Number.isFinite(n) ? n : null };
        }),
      )
      .execute();
  }
}

export function latestMetrics(db: Kysely<DB>, experimentIds: readonly string[]) {
  if (experimentIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('metric_series')
    .select(['experiment_id', 'name', 'last_value', 'last_step', 'updated_at'])
    .where('experiment_id', 'in', experimentIds)
    .where('point_count', '>', 0)
    .orderBy('name')
    .execute();
}

export interface RunQuery {
  workspaceIds: readonly string[];
  clauses: readonly Clause[];
  order: readonly OrderKey[];
  view: ViewType;
  crashedBefore: number;
  offset: number;
  limit: number;
}

/** One page of runs; rows lacking an order key's value come last either way, ties by start time, then id. */
export async function searchRuns(db: Kysely<DB>, dialect: DialectHelpers, q: RunQuery): Promise<ExperimentsTable[]> {
  if (q.workspaceIds.length === 0) return [];
  let query = db
    .selectFrom('experiments as e')
    .selectAll('e')
    .where('e.workspace_id', 'in', q.workspaceIds)
    .where(filterSql(dialect, q.clauses, q.crashedBefore));
  const deleted = sql`(select r.deleted_at from mlflow_runs r where r.experiment_id = e.id)`;
  if (q.view === 'active') query = query.where(sql<boolean>`${deleted} is null`);
  if (q.view === 'deleted') query = query.where(sql<boolean>`${deleted} is not null`);
  for (const key of q.order) {
    const value = orderValueSql(key, q.crashedBefore);
    query = query.orderBy(sql`case when ${value} is null then 1 else 0 end`).orderBy(value, key.ascending ? 'asc' : 'desc');
  }
  return query.orderBy('e.created_at', 'desc').orderBy('e.id').limit(q.limit).offset(q.offset).execute();
}
