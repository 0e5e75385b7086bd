import type { Kysely, Transaction } from 'kysely';
import type { DB } from './schema.js';

/** PostgreSQL's serialization_failure and deadlock_detected: the transaction did nothing and may run again. */
const RETRYABLE = new Set(['40001', '40P01']);

function isRetryableConflict(err: unknown): boolean {
  return typeof err === 'object' && err !== null && RETRYABLE.has(String((err as { code?: unknown }).code));
}

/**
 * Runs `fn` in a transaction, and again (at most `attempts` times in all, after a short random
 * pause) when PostgreSQL aborts it as a deadlock victim or for a serialization failure. Writers
 * lock rows in one global order, so this is a backstop, not the plan. SQLite never raises these.
 *
 * @example
 *   await transactionWithRetry(ctx.db, (trx) => repo.insertBlocks(trx, blocks));
 */
export async function transactionWithRetry<T>(
  db: Kysely<DB>,
  fn: (trx: Transaction<DB>) => Promise<T>,
  attempts = 4,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute(fn);
    } catch (err) {
      if (attempt >= attempts || !isRetryableConflict(err)) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
    }
  }
}
