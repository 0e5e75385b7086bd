import type { Kysely } from 'kysely';

// Frozen in time. An experiment's group (runs launched together: a sweep, a seed set), filterable
// on the dashboard, and its run info (git commit, command line, host, package versions...) as a
// JSON object of strings, shown on the experiment page and kept apart from the hyperparameters.
// `run_group` because GROUP is a reserved word in SQL.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('experiments').addColumn('run_group', 'text').execute();
  await db.schema
    .alterTable('experiments')
    .addColumn('run_info', 'text', (c) => c.notNull().defaultTo('{}'))
    .execute();
  await db.schema.createIndex('experiments_group_idx').on('experiments').columns(['workspace_id', 'run_group']).execute();
}
