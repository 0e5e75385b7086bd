import { sql, type Kysely } from 'kysely';
import type { DialectHelpers } from '../dialect.js';

// Frozen in time. PostgreSQL compresses large bytea values (pglz) by default; packed float64
// columns barely compress, and decompressing them on every chart read cost more than reading
// them. EXTERNAL keeps them out of line but uncompressed. SQLite stores blobs as they are.
export async function up(db: Kysely<any>, dialect: DialectHelpers): Promise<void> {
  if (dialect.name !== 'postgres') return;
  for (const column of ['data', 'windows']) {
    await sql`alter table metric_blocks alter column ${sql.ref(column)} set storage external`.execute(db);
  }
}
