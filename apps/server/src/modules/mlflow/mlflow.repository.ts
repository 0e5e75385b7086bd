import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';

/**
 * SQL of the MLflow module's own tables (`mlflow_*`); Tora's tables are the services' to reach
 * (experiments, workspaces). Access is checked by the services before any of these run.
 */

// ---- experiments (Tora workspaces) ----

export async function experimentTags(db: Kysely<DB>, workspaceIds: readonly string[]) {
  if (workspaceIds.length === 0) return [];
  return db.selectFrom('mlflow_experiment_tags').selectAll().where('workspace_id', 'in', workspaceIds).orderBy('key').execute();
}

/** One workspace's MLflow experiment tags, by key (`tora export`). */
export function workspaceTags(db: Kysely<DB>, workspaceId: string): Promise<{ key: string; value: string }[]> {
  return db
    .selectFrom('mlflow_experiment_tags')
    .select(['key', 'value'])
    .where('workspace_id', '=', workspaceId)
    .orderBy('key')
    .execute();
}

export async function setExperimentTag(db: Kysely<DB>, workspaceId: string, key: string, value: string): Promise<void> {
  await db
    .insertInto('mlflow_experiment_tags')
    .values({ workspace_id: workspaceId, key, value })
    .onConflict((oc) => oc.columns(['workspace_id', 'key']).doUpdateSet({ value }))
    .execute();
}

export async function deleteExperimentTag(db: Kysely<DB>, workspaceId: string, key: string): Promise<number> {
  const result = await db
    .deleteFrom('mlflow_experiment_tags')
    .where('workspace_id', '=', workspaceId)
    .where('key', '=', key)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

// ---- runs (Tora experiments) ----

export function findRunExtras(db: Kysely<DB>, experimentIds: readonly string[]) {
  if (experimentIds.length === 0) return Promise.resolve([]);
  return db.selectFrom('mlflow_runs').selectAll().where('experiment_id', 'in', experimentIds).execute();
}

export async function upsertRunExtras(db: Kysely<DB>, experimentId: string, patch: { end_time?: number | null }): Promise<void> {
  const row = { experiment_id: experimentId, end_time: patch.end_time ?? null, deleted_at: null };
  await db
    .insertInto('mlflow_runs')
    .values(row)
    .onConflict((oc) =>
      Object.keys(patch).length === 0 ? oc.column('experiment_id').doNothing() : oc.column('experiment_id').doUpdateSet(patch),
    )
    .execute();
}

/** What `tora export` carries of a run touched through the MLflow API (format version 2; times in epoch ms). */
export interface RunRecord {
  tags: { key: string; value: string }[];
  endTime: number | null;
  deletedAt: number | null;
}

/** A run's MLflow extras and tags, for its export line; undefined when it has neither. */
export async function runRecord(db: Kysely<DB>, experimentId: string): Promise<RunRecord | undefined> {
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

/** Puts an exported run's MLflow extras and tags onto its newly imported experiment. */
export async function insertRunRecord(db: Kysely<DB>, experimentId: string, run: RunRecord): Promise<void> {
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

export async function setRunTags(db: Kysely<DB>, experimentId: string, tags: readonly { key: string; value: string }[]) {
  for (const { key, value } of tags) {
    await db
      .insertInto('mlflow_run_tags')
      .values({ experiment_id: experimentId, key, value })
      .onConflict((oc) => oc.columns(['experiment_id', 'key']).doUpdateSet({ value }))
      .execute();
  }
}

export async function deleteRunTag(db: Kysely<DB>, experimentId: string, key: string): Promise<number> {
  const result = await db
    .deleteFrom('mlflow_run_tags')
    .where('experiment_id', '=', experimentId)
    .where('key', '=', key)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
