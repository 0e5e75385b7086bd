import type { Kysely } from 'kysely';

// Frozen in time. Hyperparameters one row per key, so the dashboard can sort and list columns
// by them in SQL on both dialects (the experiments.hyperparams JSON stays the source returned).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('experiment_hyperparams')
    .addColumn('experiment_id', 'text', (c) => c.notNull().references('experiments.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('num_value', 'double precision')
    .addColumn('text_value', 'text')
    .addPrimaryKeyConstraint('experiment_hyperparams_pk', ['experiment_id', 'key'])
    .execute();
  await db.schema
    .createIndex('experiment_hyperparams_key_idx')
    .on('experiment_hyperparams')
    .columns(['key', 'num_value'])
    .execute();

  const experiments = (await db.selectFrom('experiments').select(['id', 'hyperparams']).execute()) as {
    id: string;
    hyperparams: string;
  }[];
  for (const e of experiments) {
    const list = JSON.parse(e.hyperparams) as { key: string; value: unknown }[];
    if (list.length === 0) continue;
    await db
      .insertInto('experiment_hyperparams')
      .values(
        list.map(({ key, value }) => ({
          experiment_id: e.id,
          key,
          num_value: typeof value === 'number' ? value : typeof value === 'boolean' ? Number(value) : null,
          text_value: typeof value === 'string' ? value : null,
        })),
      )
      .execute();
  }
}
