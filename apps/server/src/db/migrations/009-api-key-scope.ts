import type { Kysely } from 'kysely';

// Frozen in time. API keys may expire (`expires_at`, epoch ms) and may be read-only
// (`scope = 'read'`); NULL in either keeps the old meaning (never expires, full access), so keys
// made before, and account exports written before, need no rewrite.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('api_keys').addColumn('expires_at', 'bigint').execute();
  await db.schema.alterTable('api_keys').addColumn('scope', 'text').execute();
}
