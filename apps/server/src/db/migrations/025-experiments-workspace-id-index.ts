import type { Kysely } from 'kysely';

// Frozen in time. The grouped dashboard reads each matching run's series figures run after run:
// with a workspace's experiments in id order, SQLite groups the series rows per run as the
// figures index (023) yields them, instead of sorting a million rows or building a temporary
// index over the runs (~40% of its time at 100,000 runs).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('experiments_workspace_id_idx').on('experiments').columns(['workspace_id', 'id']).execute();
}
