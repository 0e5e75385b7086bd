import type { Kysely } from 'kysely';

// Frozen in time. What MLflow logs as a run's inputs and outputs: datasets (`runs/log-inputs`,
// `mlflow.log_input`, every autologger's training data) with their input tags, and the logged
// models a run read (`models` of log-inputs) or wrote (`runs/outputs`). A dataset is kept per run,
// once per (name, digest) as MLflow keeps it; its `mlflow.data.context` tag has a column of its own
// because runs/search filters on it.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('mlflow_dataset_inputs')
    .addColumn('experiment_id', 'text', (c) => c.notNull().references('experiments.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('digest', 'text', (c) => c.notNull())
    .addColumn('source_type', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('schema', 'text')
    .addColumn('profile', 'text')
    .addColumn('context', 'text')
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('mlflow_dataset_inputs_pk', ['experiment_id', 'name', 'digest'])
    .execute();
  await db.schema
    .createTable('mlflow_run_models')
    .addColumn('experiment_id', 'text', (c) => c.notNull().references('experiments.id').onDelete('cascade'))
    .addColumn('model_id', 'text', (c) => c.notNull())
    .addColumn('direction', 'text', (c) => c.notNull())
    .addColumn('step', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('mlflow_run_models_pk', ['experiment_id', 'direction', 'model_id'])
    .execute();
}
