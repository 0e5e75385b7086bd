import type { Kysely } from 'kysely';
import type { DialectHelpers } from '../dialect.js';

// Frozen in time. Per-window sums of the non-NaN values beside each block's window summaries
// (modules/metrics/windows.ts), for band reads (mean across runs). NULL for blocks written before
// this migration: band reads decode those blocks instead.
export async function up(db: Kysely<any>, dialect: DialectHelpers): Promise<void> {
  await db.schema.alterTable('metric_blocks').addColumn('window_sums', dialect.blobType).execute();
}
