import type { Kysely } from 'kysely';

// Frozen in time. MLflow's model registry: registered models (named, in a workspace, so access
// follows the workspace) and their numbered versions. Tags and aliases are small JSON arrays read
// and written whole, so they stay in the rows; `next_version` keeps a deleted version's number from
// being given again, as MLflow never reuses one.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('mlflow_registered_models')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('aliases', 'text', (c) => c.notNull())
    .addColumn('next_version', 'integer', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('mlflow_registered_models_name_uq', ['workspace_id', 'name'])
    .execute();
  await db.schema
    .createTable('mlflow_model_versions')
    .addColumn('registered_model_id', 'text', (c) => c.notNull().references('mlflow_registered_models.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('run_id', 'text')
    .addColumn('logged_model_id', 'text')
    .addColumn('run_link', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('stage', 'text', (c) => c.notNull())
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('mlflow_model_versions_pk', ['registered_model_id', 'version'])
    .execute();
  await db.schema.createIndex('mlflow_model_versions_run_idx').on('mlflow_model_versions').column('run_id').execute();
}
