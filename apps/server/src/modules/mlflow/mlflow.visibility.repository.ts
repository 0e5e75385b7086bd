import { sql, type Expression, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import type { DB } from '../../db/schema.js';

/*
 * MLflow's runs/delete and experiments/delete are soft (migration 010's `deleted_at`), restorable
 * by runs/restore and experiments/restore. Tora's own routes treat what is so deleted as gone —
 * not listed, 404 like a missing experiment or workspace — while the MLflow routes keep seeing it
 * (lifecycle_stage "deleted", DELETED_ONLY searches, restore). These conditions are that one rule;
 * the repositories of the tables they guard (experiments, workspaces) put them in their queries.
 */

/** True unless the experiment (an MLflow run) was deleted through MLflow. */
export function runNotMlflowDeleted(experimentId: Expression<string>): RawBuilder<SqlBool> {
  return sql<SqlBool>`not exists (select 1 from mlflow_runs mr where mr.experiment_id = ${experimentId} and mr.deleted_at is not null)`;
}

/** True unless the workspace (an MLflow experiment) was deleted through MLflow. */
export function workspaceNotMlflowDeleted(workspaceId: Expression<string>): RawBuilder<SqlBool> {
  return sql<SqlBool>`not exists (select 1 from mlflow_experiments mx where mx.workspace_id = ${workspaceId} and mx.deleted_at is not null)`;
}

/** Whether any experiment of these workspaces is deleted through MLflow (mlflow_runs_deleted_idx keeps this cheap). */
export async function anyMlflowDeleted(db: Kysely<DB>, workspaceIds: readonly string[]): Promise<boolean> {
  if (workspaceIds.length === 0) return false;
  // Driven by the (small) partial index of deleted runs, each looked up by id: never a scan of the workspaces' experiments.
  const row = await db
    .selectFrom('mlflow_runs as mr')
    .select('mr.experiment_id')
    .where('mr.deleted_at', 'is not', null)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('experiments as e')
          .select('e.id')
          .whereRef('e.id', '=', 'mr.experiment_id')
          .where('e.workspace_id', 'in', workspaceIds),
      ),
    )
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
