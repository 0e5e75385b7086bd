import type { Kysely } from 'kysely';
import type { ApiKeysTable, DB } from '../../db/schema.js';

export async function insertKey(db: Kysely<DB>, key: ApiKeysTable): Promise<void> {
  await db.insertInto('api_keys').values(key).execute();
}

export function listKeys(db: Kysely<DB>, userId: string) {
  return db
    .selectFrom('api_keys')
    .select(['id', 'name', 'prefix', 'created_at', 'last_used_at', 'revoked_at', 'expires_at', 'scope'])
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .execute();
}

/** Revokes a key of this user; false when the user has no such key. */
export async function revokeKey(db: Kysely<DB>, userId: string, id: string, now: number): Promise<boolean> {
  const found = await db
    .selectFrom('api_keys')
    .select(['id', 'revoked_at'])
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  if (!found) return false;
  if (found.revoked_at === null) {
    await db.updateTable('api_keys').set({ revoked_at: now }).where('id', '=', id).execute();
  }
  return true;
}

/** The email of the user owning the key with this hash (revoked or not), if any. */
export async function findOwnerEmailByHash(db: Kysely<DB>, keyHash: string): Promise<string | null> {
  const row = await db
    .selectFrom('api_keys')
    .innerJoin('users', 'users.id', 'api_keys.user_id')
    .select('users.email')
    .where('api_keys.key_hash', '=', keyHash)
    .executeTakeFirst();
  return row?.email ?? null;
}

export function findKeyByHash(db: Kysely<DB>, keyHash: string) {
  return db
    .selectFrom('api_keys')
    .select(['id', 'user_id', 'revoked_at', 'expires_at', 'scope'])
    .where('key_hash', '=', keyHash)
    .executeTakeFirst();
}

export async function setKeyLastUsed(db: Kysely<DB>, id: string, at: number): Promise<void> {
  await db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
}
