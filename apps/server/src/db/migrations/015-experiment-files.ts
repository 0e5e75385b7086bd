import type { Kysely } from 'kysely';

// Frozen in time. The index of a run's files (the bytes live in the blob store, never here): one
// row per file under the run's `artifacts/` (whichever door wrote it: Tora's files routes or
// MLflow's artifact proxy), with its size, SHA-256 and content type, so listings and ETags need no
// directory walk and no backend listing. `experiment_media` indexes the images among those files
// by key and step (a step slider reads it, never a directory); its rows go with their file.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('experiment_files')
    .addColumn('experiment_id', 'text', (c) => c.notNull().references('experiments.id').onDelete('cascade'))
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('sha256', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('experiment_files_pk', ['experiment_id', 'path'])
    .execute();
  await db.schema
    .createTable('experiment_media')
    .addColumn('experiment_id', 'text', (c) => c.notNull().references('experiments.id').onDelete('cascade'))
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('step', 'bigint', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('width', 'integer', (c) => c.notNull())
    .addColumn('height', 'integer', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('experiment_media_pk', ['experiment_id', 'path'])
    .execute();
  await db.schema
    .createIndex('experiment_media_step_idx')
    .on('experiment_media')
    .columns(['experiment_id', 'name', 'step'])
    .execute();
}
