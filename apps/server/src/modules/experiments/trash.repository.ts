import { sql, type Expression, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import type { DB } from '../../db/schema.js';

/*
 * An experiment is "trashed" when it is soft-deleted: restorable, but gone from Tora's own views —
 * not listed, 404 like a missing experiment. MLflow's runs/delete and runs/restore are the doors
 * that trash and restore (the mark is `deleted_at` of migration 010's `mlflow_runs`, kept under
 * that name); MLflow's routes still see trashed experiments (lifecycle_stage "deleted",
 * DELETED_ONLY searches). These are the one rule; the experiments repository puts the condition in
 * its queries. Workspaces have the same notion (workspaces/trash.repository.ts).
 */

/** True unless the experiment is trashed. */
export function experimentNotTrashed(experimentId: Expression<string>): RawBuilder<SqlBool> {
  return sql<SqlBool>`not exists (select 1 from mlflow_runs mr where mr.experiment_id = ${experimentId} and mr.deleted_at is not null)`;
}

/** True when the experiment is trashed. */
export function experimentTrashed(experimentId: Expression<string>): RawBuilder<SqlBool> {
  return sql<SqlBool>`exists (select 1 from mlflow_runs mr where mr.experiment_id = ${experimentId} and mr.deleted_at is not null)`;
}

/** Whether any experiment of these workspaces is trashed (mlflow_runs_deleted_idx keeps this cheap). */
export async function anyTrashed(db: Kysely<DB>, workspaceIds: readonly string[]): Promise<boolean> {
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

/** Trashes the experiment at `at`, or restores it (null). */
export async function setExperimentTrashed(db: Kysely<DB>, experimentId: string, at: number | null): Promise<void> {
  await db
    .insertInto('mlflow_runs')
    .values({ experiment_id: experimentId, end_time: null, deleted_at: at })
    .onConflict((oc) => oc.column('experiment_id').doUpdateSet({ deleted_at: at }))
    .execute();
}
