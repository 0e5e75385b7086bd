/** The queries of `tora export` / `tora import` that no other module needs. */
import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import type { ExperimentRow } from '../experiments/experiments.repository.js';
import type { AccountTable, KeyValueRecord, MlflowRunRecord } from './transfer.format.js';

export function selectExperiments(
  db: Kysely<DB>,
  filter: { workspaceId?: string; experimentIds?: readonly string[] },
): Promise<ExperimentRow[]> {
  let q = db.selectFrom('experiments').selectAll().orderBy('created_at').orderBy('id');
  if (filter.workspaceId !== undefined) q = q.where('workspace_id', '=', filter.workspaceId);
  if (filter.experimentIds?.length) q = q.where('id', 'in', [...filter.experimentIds]);
  return q.execute();
}

export function allRows(db: Kysely<DB>, table: AccountTable): Promise<Record<string, unknown>[]> {
  return db.selectFrom(table).selectAll().execute();
}

export async function userIds(db: Kysely<DB>): Promise<string[]> {
  return (await db.selectFrom('users').select('id').execute()).map((u) => u.id);
}

/** Inserts account rows as they were; rows already there (a rerun) are left alone. */
export async function insertRows(db: Kysely<DB>, table: AccountTable, rows: readonly Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 100) {
    // Rows are checked against ACCOUNT_COLUMNS; Kysely cannot follow a table name chosen at run time.
    await (db as unknown as Kysely<Record<string, Record<string, unknown>>>)
      .insertInto(table)
      .values(rows.slice(i, i + 100))
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
}

export async function workspaceOwner(db: Kysely<DB>, workspaceId: string): Promise<string | null> {
  const row = await db
    .selectFrom('workspace_members')
    .select('user_id')
    .where('workspace_id', '=', workspaceId)
    .where('role', '=', 'owner')
    .executeTakeFirst();
  return row?.user_id ?? null;
}

/** A run's MLflow extras and tags, for its experiment line; undefined when it has neither. */
export async function mlflowRun(db: Kysely<DB>, experimentId: string): Promise<MlflowRunRecord | undefined> {
  const extras = await db.selectFrom('mlflow_runs').selectAll().where('experiment_id', '=', experimentId).executeTakeFirst();
  const tags = await db
    .selectFrom('mlflow_run_tags')
    .select(['key', 'value'])
    .where('experiment_id', '=', experimentId)
    .orderBy('key')
    .execute();
  if (!extras && tags.length === 0) return undefined;
  return { tags, endTime: extras?.end_time ?? null, deletedAt: extras?.deleted_at ?? null };
}

export async function insertMlflowRun(db: Kysely<DB>, experimentId: string, run: MlflowRunRecord): Promise<void> {
  await db
    .insertInto('mlflow_runs')
    .values({ experiment_id: experimentId, end_time: run.endTime, deleted_at: run.deletedAt })
    .execute();
  for (let i = 0; i < run.tags.length; i += 200) {
    await db
      .insertInto('mlflow_run_tags')
      .values(run.tags.slice(i, i + 200).map((t) => ({ experiment_id: experimentId, key: t.key, value: t.value })))
      .execute();
  }
}

export function mlflowExperimentTags(db: Kysely<DB>, workspaceId: string): Promise<KeyValueRecord[]> {
  return db
    .selectFrom('mlflow_experiment_tags')
    .select(['key', 'value'])
    .where('workspace_id', '=', workspaceId)
    .orderBy('key')
    .execute();
}

/** Sets these MLflow experiment tags on a workspace (an import answers experiments/get as the source did). */
export async function setMlflowExperimentTags(
  db: Kysely<DB>,
  workspaceId: string,
  tags: readonly KeyValueRecord[],
): Promise<void> {
  for (const { key, value } of tags) {
    await db
      .insertInto('mlflow_experiment_tags')
      .values({ workspace_id: workspaceId, key, value })
      .onConflict((oc) => oc.columns(['workspace_id', 'key']).doUpdateSet({ value }))
      .execute();
  }
}

export async function setSeriesUpdatedAt(db: Kysely<DB>, experimentId: string, name: string, at: number): Promise<void> {
  await db
    .updateTable('metric_series')
    .set({ updated_at: at })
    .where('experiment_id', '=', experimentId)
    .where('name', '=', name)
    .execute();
}

/** The id of the workspace with this id, if any (ids are compared as text: a name never matches by accident). */
export async function workspaceById(db: Kysely<DB>, id: string): Promise<string | null> {
  const row = await db.selectFrom('workspaces').select('id').where('id', '=', id).executeTakeFirst();
  return row?.id ?? null;
}

export async function workspaceIdsByName(db: Kysely<DB>, name: string): Promise<string[]> {
  const rows = await db
    .selectFrom('workspaces')
    .select('id')
    .where('name', '=', name)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map((r) => r.id);
}
