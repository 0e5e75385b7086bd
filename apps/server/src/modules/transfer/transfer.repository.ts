/** The queries of `tora export` / `tora import` that no other module needs: account tables copied row for row. */
import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import type { AccountTable } from './transfer.format.js';

export function allRows(db: Kysely<DB>, table: AccountTable): Promise<Record<string, unknown>[]> {
  return db.selectFrom(table).selectAll().execute();
}

/** Inserts account rows as they were; rows already there (a rerun) are left alone. */
export async function insertRows(db: Kysely<DB>, table: AccountTable, rows: readonly Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 100) {
    // Rows are checked against ACCOUNT_COLUMNS; Kysely cannot follow a table name chosen at run time.
    await (db as unknown as Kysely<Record<string, Record<string, unknown>>>)
      .insertInto(table)
      .values(rows.slice(i, i + 100))
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
}
