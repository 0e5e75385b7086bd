import { sql, type Kysely } from 'kysely';

// Frozen in time. Runs deleted through MLflow, found without scanning every MLflow run: the
// experiment list asks first whether its workspaces hold any, and only then pays for the per-row
// check that hides them (usually there are none).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('mlflow_runs_deleted_idx')
    .on('mlflow_runs')
    .column('experiment_id')
    .where(sql.ref('deleted_at'), 'is not', null)
    .execute();
}
