import { sql, type Expression, type RawBuilder, type SqlBool } from 'kysely';

/*
 * MLflow's runs/delete and experiments/delete are soft (migration 010's `deleted_at`), restorable
 * by runs/restore and experiments/restore. Tora's own routes treat what is so deleted as gone —
 * not listed, 404 like a missing experiment or workspace — while the MLflow routes keep seeing it
 * (lifecycle_stage "deleted", DELETED_ONLY searches, restore). These conditions are that one rule.
 */

/** True unless the experiment (an MLflow run) was deleted through MLflow. */
export function runNotMlflowDeleted(experimentId: Expression<string>): RawBuilder<SqlBool> {
  return sql<SqlBool>`not exists (select 1 from mlflow_runs mr where mr.experiment_id = ${experimentId} and mr.deleted_at is not null)`;
}

/** True unless the workspace (an MLflow experiment) was deleted through MLflow. */
export function workspaceNotMlflowDeleted(workspaceId: Expression<string>): RawBuilder<SqlBool> {
  return sql<SqlBool>`not exists (select 1 from mlflow_experiments mx where mx.workspace_id = ${workspaceId} and mx.deleted_at is not null)`;
}
