import type { Kysely } from 'kysely';

// Frozen in time. Per-workspace overrides of a metric's direction (lower or higher is better);
// metrics without a row fall back to the direction inferred from their name.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('metric_directions')
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('direction', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('metric_directions_pk', ['workspace_id', 'name'])
    .execute();
}
