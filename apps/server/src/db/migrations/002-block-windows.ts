import type { Kysely } from 'kysely';
import type { DialectHelpers } from '../dialect.js';

// Frozen in time. Per-block window summaries (see modules/metrics/windows.ts); NULL for blocks
// written before this migration or with sparse steps: reads decode those blocks instead.
// Batch fingerprints tell an idempotent retry from a different batch reusing a batchId.
export async function up(db: Kysely<any>, dialect: DialectHelpers): Promise<void> {
  await db.schema.alterTable('metric_blocks').addColumn('windows', dialect.blobType).execute();
  await db.schema.alterTable('metric_batches').addColumn('fingerprint', 'text').execute();
}
