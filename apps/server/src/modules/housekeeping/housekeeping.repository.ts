import { sql, type Kysely } from 'kysely';
import type { DialectHelpers } from '../../db/dialect.js';
import type { DB } from '../../db/schema.js';

/**
 * Runs `work` only if no other server of the deployment is running the same job: on PostgreSQL
 * under a transaction-scoped advisory lock taken with `pg_try_advisory_xact_lock` (a busy lock is
 * skipped, never waited for); on SQLite, where one server owns the file, always. True when it ran.
 */
export async function whileLeader(
  db: Kysely<DB>,
  dialect: DialectHelpers,
  lockKey: number,
  work: (db: Kysely<DB>) => Promise<void>,
): Promise<boolean> {
  if (!dialect.rowLocks) {
    await work(db);
    return true;
  }
  return db.transaction().execute(async (trx) => {
    const got = await sql<{ got: boolean }>`select pg_try_advisory_xact_lock(${lockKey}) as got`.execute(trx);
    if (!got.rows[0]?.got) return false;
    await work(trx);
    return true;
  });
}

/** Removes sessions past their expiry: they are refused anyway, this keeps the table small. */
export async function deleteExpiredSessions(db: Kysely<DB>, now: number): Promise<number> {
  const result = await db.deleteFrom('sessions').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
