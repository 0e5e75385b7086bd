import type { Kysely } from 'kysely';

// Frozen in time. Failed-login counters in the database, so that the per-address and per-account
// limits hold across every server of a deployment (one fixed window per key: its start and count).
// Keys are hashed: an e-mail field sometimes holds a mistyped password.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('login_failures')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('window_start', 'bigint', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('login_failures_window_idx').on('login_failures').column('window_start').execute();
}
