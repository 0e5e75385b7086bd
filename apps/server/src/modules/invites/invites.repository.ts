import type { Kysely } from 'kysely';
import type { DB, WorkspaceInvitesTable } from '../../db/schema.js';

/** All SQL of `workspace_invites`. */

export async function insertInvite(db: Kysely<DB>, row: WorkspaceInvitesTable): Promise<void> {
  await db.insertInto('workspace_invites').values(row).execute();
}

/** A workspace's invites with the address of whoever used each, newest first. */
export function listInvites(db: Kysely<DB>, workspaceId: string) {
  return db
    .selectFrom('workspace_invites')
    .leftJoin('users', 'users.id', 'workspace_invites.used_by')
    .selectAll('workspace_invites')
    .select('users.email as used_by_email')
    .where('workspace_id', '=', workspaceId)
    .orderBy('workspace_invites.created_at', 'desc')
    .orderBy('workspace_invites.id')
    .execute();
}

export async function countOpenInvites(db: Kysely<DB>, workspaceId: string, now: number): Promise<number> {
  const row = await db
    .selectFrom('workspace_invites')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('workspace_id', '=', workspaceId)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export function findInvite(db: Kysely<DB>, workspaceId: string, id: string) {
  return db
    .selectFrom('workspace_invites')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export function findInviteByTokenHash(db: Kysely<DB>, tokenHash: string) {
  return db
    .selectFrom('workspace_invites')
    .innerJoin('workspaces', 'workspaces.id', 'workspace_invites.workspace_id')
    .selectAll('workspace_invites')
    .select('workspaces.name as workspace_name')
    .where('token_hash', '=', tokenHash)
    .executeTakeFirst();
}

export async function revokeInvite(db: Kysely<DB>, id: string, now: number): Promise<void> {
  await db
    .updateTable('workspace_invites')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .execute();
}

/** Marks an open invite used; false when another signup used (or someone revoked) it first. */
export async function markInviteUsed(db: Kysely<DB>, id: string, userId: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('workspace_invites')
    .set({ used_at: now, used_by: userId })
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
