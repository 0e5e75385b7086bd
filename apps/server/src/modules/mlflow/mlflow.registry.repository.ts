import type { Kysely } from 'kysely';
import type { DB, MlflowModelVersionsTable, MlflowRegisteredModelsTable } from '../../db/schema.js';

/** SQL of MLflow's model registry: `mlflow_registered_models` and `mlflow_model_versions`. */

type ModelRow = MlflowRegisteredModelsTable;
type VersionRow = MlflowModelVersionsTable;

/** Registered models of these workspaces, by name (then workspace); optionally only those named so. */
export function modelsIn(db: Kysely<DB>, workspaceIds: readonly string[], name?: string): Promise<ModelRow[]> {
  if (workspaceIds.length === 0) return Promise.resolve([]);
  let q = db.selectFrom('mlflow_registered_models').selectAll().where('workspace_id', 'in', workspaceIds);
  if (name !== undefined) q = q.where('name', '=', name);
  return q.orderBy('name').orderBy('workspace_id').execute();
}

export async function insertModel(db: Kysely<DB>, row: ModelRow): Promise<void> {
  await db.insertInto('mlflow_registered_models').values(row).execute();
}

export async function updateModel(db: Kysely<DB>, id: string, patch: Partial<Omit<ModelRow, 'id'>>): Promise<void> {
  await db.updateTable('mlflow_registered_models').set(patch).where('id', '=', id).execute();
}

export async function deleteModel(db: Kysely<DB>, id: string): Promise<void> {
  await db.deleteFrom('mlflow_model_versions').where('registered_model_id', '=', id).execute();
  await db.deleteFrom('mlflow_registered_models').where('id', '=', id).execute();
}

/** Versions of these registered models, newest first. */
export function versionsOf(db: Kysely<DB>, modelIds: readonly string[]): Promise<VersionRow[]> {
  if (modelIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('mlflow_model_versions')
    .selectAll()
    .where('registered_model_id', 'in', modelIds)
    .orderBy('registered_model_id')
    .orderBy('version', 'desc')
    .execute();
}

export async function insertVersion(db: Kysely<DB>, row: VersionRow): Promise<void> {
  await db.insertInto('mlflow_model_versions').values(row).execute();
}

export async function updateVersion(
  db: Kysely<DB>,
  modelId: string,
  version: number,
  patch: Partial<Omit<VersionRow, 'registered_model_id' | 'version'>>,
): Promise<void> {
  await db
    .updateTable('mlflow_model_versions')
    .set(patch)
    .where('registered_model_id', '=', modelId)
    .where('version', '=', version)
    .execute();
}

export async function deleteVersion(db: Kysely<DB>, modelId: string, version: number): Promise<void> {
  await db
    .deleteFrom('mlflow_model_versions')
    .where('registered_model_id', '=', modelId)
    .where('version', '=', version)
    .execute();
}

/** Locks a registered model's row for a version number or an alias change (PostgreSQL; SQLite serialises writers). */
export async function lockModel(db: Kysely<DB>, id: string, forUpdate: boolean): Promise<ModelRow | undefined> {
  let q = db.selectFrom('mlflow_registered_models').selectAll().where('id', '=', id);
  if (forUpdate) q = q.forUpdate();
  return q.executeTakeFirst();
}

/** The registered versions made from a run, with their model's name and aliases, of models in the workspace. */
export function versionsFromRun(
  db: Kysely<DB>,
  workspaceId: string,
  runId: string,
): Promise<(VersionRow & { model_name: string; model_aliases: string })[]> {
  return db
    .selectFrom('mlflow_model_versions as v')
    .innerJoin('mlflow_registered_models as m', 'm.id', 'v.registered_model_id')
    .selectAll('v')
    .select(['m.name as model_name', 'm.aliases as model_aliases'])
    .where('m.workspace_id', '=', workspaceId)
    .where('v.run_id', '=', runId)
    .orderBy('m.name')
    .orderBy('v.version')
    .execute();
}
