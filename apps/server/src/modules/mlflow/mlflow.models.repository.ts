import type { Kysely } from 'kysely';
import type { DB, MlflowLoggedModelsTable } from '../../db/schema.js';

/** SQL of MLflow 3's logged models; every read is by id or scoped by workspace. */

export async function insertLoggedModel(db: Kysely<DB>, row: MlflowLoggedModelsTable): Promise<void> {
  await db.insertInto('mlflow_logged_models').values(row).execute();
}

export function findLoggedModel(db: Kysely<DB>, id: string): Promise<MlflowLoggedModelsTable | undefined> {
  return db.selectFrom('mlflow_logged_models').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function updateLoggedModel(
  db: Kysely<DB>,
  id: string,
  patch: Partial<Pick<MlflowLoggedModelsTable, 'status' | 'status_message' | 'tags' | 'params' | 'updated_at'>>,
): Promise<void> {
  await db.updateTable('mlflow_logged_models').set(patch).where('id', '=', id).execute();
}

export async function deleteLoggedModel(db: Kysely<DB>, id: string): Promise<void> {
  await db.deleteFrom('mlflow_logged_models').where('id', '=', id).execute();
}

export type ModelFilterColumn = 'name' | 'id' | 'source_run_id' | 'model_type' | 'status';
export interface ModelFilter {
  column: ModelFilterColumn;
  op: '=' | '!=';
  value: string;
}

/** Newest first, one page (`limit` rows from `offset`), every filter clause applied. */
export function searchLoggedModels(
  db: Kysely<DB>,
  q: { workspaceIds: readonly string[]; where: readonly ModelFilter[]; offset: number; limit: number },
): Promise<MlflowLoggedModelsTable[]> {
  if (q.workspaceIds.length === 0) return Promise.resolve([]);
  let query = db.selectFrom('mlflow_logged_models').selectAll().where('workspace_id', 'in', q.workspaceIds);
  for (const c of q.where) {
    // A NULL source run is "not equal" to any run id, as in MLflow.
    query =
      c.op === '=' || c.column !== 'source_run_id'
        ? query.where(c.column, c.op === '=' ? '=' : '<>', c.value)
        : query.where((eb) => eb.or([eb('source_run_id', 'is', null), eb('source_run_id', '<>', c.value)]));
  }
  return query.orderBy('created_at', 'desc').orderBy('id').offset(q.offset).limit(q.limit).execute();
}

/** The logged models a run made (`source_run_id`), in its workspace, oldest first. */
export function loggedModelsOfRun(db: Kysely<DB>, workspaceId: string, runId: string): Promise<MlflowLoggedModelsTable[]> {
  return db
    .selectFrom('mlflow_logged_models')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('source_run_id', '=', runId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}
