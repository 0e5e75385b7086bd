import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';

export function findUserByEmail(db: Kysely<DB>, email: string) {
  return db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
}

export function findUserById(db: Kysely<DB>, id: string) {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function countUsers(db: Kysely<DB>): Promise<number> {
  const row = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function insertUser(
  db: Kysely<DB>,
  user: { id: string; email: string; password_hash: string; created_at: number },
): Promise<void> {
  await db
    .insertInto('users')
    .values({ ...user, default_workspace_id: null })
    .execute();
}

export async function setDefaultWorkspace(db: Kysely<DB>, userId: string, workspaceId: string): Promise<void> {
  await db.updateTable('users').set({ default_workspace_id: workspaceId }).where('id', '=', userId).execute();
}

/** A deleted workspace stops being anyone's default. */
export async function clearDefaultWorkspace(db: Kysely<DB>, workspaceId: string): Promise<void> {
  await db.updateTable('users').set({ default_workspace_id: null }).where('default_workspace_id', '=', workspaceId).execute();
}

/** Whether some user has this workspace as their default (where runs without a workspace go). */
export async function isDefaultWorkspace(db: Kysely<DB>, workspaceId: string): Promise<boolean> {
  const row = await db.selectFrom('users').select('id').where('default_workspace_id', '=', workspaceId).executeTakeFirst();
  return row !== undefined;
}

export async function userIds(db: Kysely<DB>): Promise<string[]> {
  return (await db.selectFrom('users').select('id').execute()).map((u) => u.id);
}

export async function insertSession(
  db: Kysely<DB>,
  session: { id: string; user_id: string; created_at: number; expires_at: number },
): Promise<void> {
  await db.insertInto('sessions').values(session).execute();
}

export function findLiveSession(db: Kysely<DB>, id: string, now: number) {
  return db
    .selectFrom('sessions')
    .select(['id', 'user_id'])
    .where('id', '=', id)
    .where('expires_at', '>', now)
    .executeTakeFirst();
}

export async function deleteSession(db: Kysely<DB>, id: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', id).execute();
}

export function listUsers(db: Kysely<DB>) {
  return db
    .selectFrom('users')
    .select(['id', 'email', 'default_workspace_id', 'created_at'])
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

export async function setPasswordHash(db: Kysely<DB>, userId: string, passwordHash: string): Promise<void> {
  await db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', userId).execute();
}

/** Ends every session of a user; returns how many there were. */
export async function deleteUserSessions(db: Kysely<DB>, userId: string): Promise<number> {
  const result = await db.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows);
}
