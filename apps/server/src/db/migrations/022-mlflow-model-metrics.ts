import type { Kysely } from 'kysely';

// Frozen in time. MLflow 3's model metrics: a point logged with `model_id` (and, for an
// evaluation, `dataset_name`/`dataset_digest`) also belongs to that logged model, and
// `GET logged-models/{id}` answers it; logged-model search filters on its datasets. The run it
// came from is kept (deleting the run deletes them); '' stands for no dataset, so the primary key
// holds no NULL; the value is NULL for NaN (SQLite keeps no NaN). `given_source_run_id` keeps the
// `source_run_id` a client gave, as MLflow keeps any; `source_run_id` stays the run of the same
// experiment whose files the model's sit beside (NULL when the given one is no such run).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('mlflow_logged_model_metrics')
    .addColumn('model_id', 'text', (c) => c.notNull().references('mlflow_logged_models.id').onDelete('cascade'))
    .addColumn('run_id', 'text', (c) => c.notNull().references('experiments.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('value', 'double precision')
    .addColumn('timestamp', 'bigint', (c) => c.notNull())
    .addColumn('step', 'bigint', (c) => c.notNull())
    .addColumn('dataset_name', 'text', (c) => c.notNull())
    .addColumn('dataset_digest', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('mlflow_logged_model_metrics_pk', [
      'model_id',
      'run_id',
      'key',
      'step',
      'timestamp',
      'dataset_name',
      'dataset_digest',
    ])
    .execute();
  await db.schema.alterTable('mlflow_logged_models').addColumn('given_source_run_id', 'text').execute();
  await db
    .updateTable('mlflow_logged_models')
    .set((eb) => ({ given_source_run_id: eb.ref('source_run_id') }))
    .execute();
}
