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

/** Newest first, one page (`limit` rows from `offset`). */
export function searchLoggedModels(
  db: Kysely<DB>,
  q: { workspaceIds: readonly string[]; offset: number; limit: number },
): Promise<MlflowLoggedModelsTable[]> {
  if (q.workspaceIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('mlflow_logged_models')
    .selectAll()
    .where('workspace_id', 'in', q.workspaceIds)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .offset(q.offset)
    .limit(q.limit)
    .execute();
}
