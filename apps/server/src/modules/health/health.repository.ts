import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';

/** One round trip: throws when the database does not answer. */
export async function ping(db: Kysely<DB>): Promise<void> {
  await sql`select 1`.execute(db);
}
