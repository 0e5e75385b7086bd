import type { Kysely } from 'kysely';

// Frozen in time. MLflow 3's logged models (`mlflow.<flavor>.log_model` creates one, uploads its
// files, then finalizes it). They belong to an MLflow experiment (a Tora workspace) and usually to
// the run that produced them; deleting either deletes the model. Tags and params are small JSON
// arrays read and written whole, so they stay in the row.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('mlflow_logged_models')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('source_run_id', 'text', (c) => c.references('experiments.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('model_type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('status_message', 'text', (c) => c.notNull())
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('params', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('mlflow_logged_models_workspace_idx')
    .on('mlflow_logged_models')
    .columns(['workspace_id', 'created_at'])
    .execute();
  await db.schema.createIndex('mlflow_logged_models_run_idx').on('mlflow_logged_models').column('source_run_id').execute();
}
