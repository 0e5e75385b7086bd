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

/** The failed-login counters of these keys (their window start and count). */
export function findLoginFailures(db: Kysely<DB>, keys: readonly string[]) {
  return db
    .selectFrom('login_failures')
    .select(['key', 'window_start', 'count'])
    .where('key', 'in', [...keys])
    .execute();
}

/**
 * Counts one failure against a key in one statement, so servers failing logins at once never lose
 * a count: a window that ended by `now` starts again at `now` with 1.
 */
export async function addLoginFailure(db: Kysely<DB>, key: string, now: number, windowMs: number): Promise<void> {
  const ended = now - windowMs;
  await db
    .insertInto('login_failures')
    .values({ key, window_start: now, count: 1 })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet((eb) => ({
        count: eb
          .case()
          .when('login_failures.window_start', '<=', ended)
          .then(1)
          .else(eb('login_failures.count', '+', 1))
          .end(),
        window_start: eb
          .case()
          .when('login_failures.window_start', '<=', ended)
          .then(now)
          .else(eb.ref('login_failures.window_start'))
          .end(),
      })),
    )
    .execute();
}

export async function deleteLoginFailure(db: Kysely<DB>, key: string): Promise<void> {
  await db.deleteFrom('login_failures').where('key', '=', key).execute();
}

/** Drops counters whose window started at or before `before`: the table holds the last hour only. */
export async function pruneLoginFailures(db: Kysely<DB>, before: number): Promise<void> {
  await db.deleteFrom('login_failures').where('window_start', '<=', before).execute();
}
