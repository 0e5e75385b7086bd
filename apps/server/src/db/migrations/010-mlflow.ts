import type { Kysely } from 'kysely';

// Frozen in time. What the MLflow tracking API needs beyond Tora's own model: key/value tags of
// runs (Tora experiments) and of MLflow experiments (Tora workspaces), a run's end time, and
// MLflow's soft deletion (delete/restore) of both.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('mlflow_run_tags')
    .addColumn('experiment_id', 'text', (c) => c.notNull().references('experiments.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('mlflow_run_tags_pk', ['experiment_id', 'key'])
    .execute();
  await db.schema.createIndex('mlflow_run_tags_key_idx').on('mlflow_run_tags').columns(['key', 'value']).execute();
  await db.schema
    .createTable('mlflow_runs')
    .addColumn('experiment_id', 'text', (c) => c.primaryKey().references('experiments.id').onDelete('cascade'))
    .addColumn('end_time', 'bigint')
    .addColumn('deleted_at', 'bigint')
    .execute();
  await db.schema
    .createTable('mlflow_experiment_tags')
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('mlflow_experiment_tags_pk', ['workspace_id', 'key'])
    .execute();
  await db.schema
    .createTable('mlflow_experiments')
    .addColumn('workspace_id', 'text', (c) => c.primaryKey().references('workspaces.id').onDelete('cascade'))
    .addColumn('deleted_at', 'bigint')
    .execute();
}
