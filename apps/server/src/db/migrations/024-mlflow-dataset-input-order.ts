import type { Kysely } from 'kysely';

// Frozen in time. A dataset input's place in the log-inputs request that logged it, so a run's
// datasets read back in the order they were logged, as MLflow answers them (inputs logged in one
// request share their time). Rows from before keep 0 and their old order (name, then digest).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('mlflow_dataset_inputs')
    .addColumn('position', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}
