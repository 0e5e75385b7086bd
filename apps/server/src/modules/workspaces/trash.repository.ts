import { sql, type Expression, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import type { DB } from '../../db/schema.js';

/*
 * A workspace is "trashed" when it is soft-deleted: restorable, but gone from Tora's own views (not
 * listed, 404) while MLflow's routes still see it. MLflow's experiments/delete and
 * experiments/restore are the doors (the mark is `deleted_at` of migration 010's
 * `mlflow_experiments`, kept under that name). Experiments have the same notion
 * (experiments/trash.repository.ts).
 */

/** True unless the workspace is trashed. */
export function workspaceNotTrashed(workspaceId: Expression<string>): RawBuilder<SqlBool> {
  return sql<SqlBool>`not exists (select 1 from mlflow_experiments mx where mx.workspace_id = ${workspaceId} and mx.deleted_at is not null)`;
}

/** When each of these workspaces was trashed (null, or absent, for one that is not). */
export async function workspacesTrashedAt(db: Kysely<DB>, workspaceIds: readonly string[]): Promise<Map<string, number | null>> {
  if (workspaceIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('mlflow_experiments')
    .select(['workspace_id', 'deleted_at'])
    .where('workspace_id', 'in', workspaceIds)
    .execute();
  return new Map(rows.map((r) => [r.workspace_id, r.deleted_at]));
}

/** Trashes the workspace at `at`, or restores it (null). */
export async function setWorkspaceTrashed(db: Kysely<DB>, workspaceId: string, at: number | null): Promise<void> {
  await db
    .insertInto('mlflow_experiments')
    .values({ workspace_id: workspaceId, deleted_at: at })
    .onConflict((oc) => oc.column('workspace_id').doUpdateSet({ deleted_at: at }))
    .execute();
}
