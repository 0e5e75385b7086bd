import { sql, type Kysely } from 'kysely';
import type { DB, Role } from '../../db/schema.js';
import { clearDefaultWorkspace } from '../auth/auth.repository.js';
import { deleteExperiments } from '../experiments/experiments.repository.js';
import { workspaceNotTrashed } from './trash.repository.js';

/** The workspaces, memberships and roles. The access rule itself is `access.ts`, over these. */

export async function insertWorkspace(
  db: Kysely<DB>,
  ws: { id: string; name: string; description: string; created_at: number },
  ownerId: string,
): Promise<void> {
  await db
    .insertInto('workspaces')
    .values({ ...ws, updated_at: ws.created_at })
    .execute();
  await db
    .insertInto('workspace_members')
    .values({ workspace_id: ws.id, user_id: ownerId, role: 'owner', created_at: ws.created_at })
    .execute();
}

/**
 * The user's workspaces with their role, oldest first. Tora's list leaves out trashed ones;
 * MLflow's experiments/search passes `includeTrashed` (it shows and restores them).
 */
export function listForUser(db: Kysely<DB>, userId: string, opts: { includeTrashed?: boolean } = {}) {
  let q = db
    .selectFrom('workspaces as w')
    .innerJoin('workspace_members as m', 'm.workspace_id', 'w.id')
    .select(['w.id', 'w.name', 'w.description', 'w.created_at', 'w.updated_at', 'm.role'])
    .where('m.user_id', '=', userId);
  if (!opts.includeTrashed) q = q.where(workspaceNotTrashed(sql.ref('w.id')));
  return q.orderBy('w.created_at').orderBy('w.id').execute();
}

export function findWorkspace(db: Kysely<DB>, id: string) {
  return db.selectFrom('workspaces').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function updateWorkspace(
  db: Kysely<DB>,
  id: string,
  patch: { name?: string; description?: string; updated_at: number },
): Promise<void> {
  await db.updateTable('workspaces').set(patch).where('id', '=', id).execute();
}

export async function deleteWorkspace(db: Kysely<DB>, id: string): Promise<void> {
  await deleteExperiments(db, { workspaceId: id });
  await db.deleteFrom('workspace_members').where('workspace_id', '=', id).execute();
  await clearDefaultWorkspace(db, id);
  await db.deleteFrom('workspaces').where('id', '=', id).execute();
}

/**
 * The user's role in the workspace; null for a non-member. Unless `includeTrashed`, also null
 * where the workspace is trashed (Tora's views hide it until restored).
 */
export async function memberRole(
  db: Kysely<DB>,
  userId: string,
  workspaceId: string,
  opts: { includeTrashed: boolean },
): Promise<Role | null> {
  let q = db.selectFrom('workspace_members').select('role').where('workspace_id', '=', workspaceId).where('user_id', '=', userId);
  if (!opts.includeTrashed) q = q.where(workspaceNotTrashed(sql.ref('workspace_members.workspace_id')));
  const row = await q.executeTakeFirst();
  return row?.role ?? null;
}

/**
 * The workspaces the user is a member of (any role), optionally only among `within`; trashed ones
 * are left out (Tora's lists across workspaces).
 */
export async function memberWorkspaceIds(db: Kysely<DB>, userId: string, within?: readonly string[]): Promise<string[]> {
  if (within?.length === 0) return [];
  let q = db
    .selectFrom('workspace_members')
    .select('workspace_id')
    .where('user_id', '=', userId)
    .where(workspaceNotTrashed(sql.ref('workspace_members.workspace_id')));
  if (within !== undefined) q = q.where('workspace_id', 'in', within);
  return (await q.execute()).map((r) => r.workspace_id);
}

/** An owner of the workspace (the first one found), if any. */
export async function workspaceOwner(db: Kysely<DB>, workspaceId: string): Promise<string | null> {
  const row = await db
    .selectFrom('workspace_members')
    .select('user_id')
    .where('workspace_id', '=', workspaceId)
    .where('role', '=', 'owner')
    .executeTakeFirst();
  return row?.user_id ?? null;
}

/** The id of the workspace with this id, if any (ids are compared as text: a name never matches by accident). */
export async function workspaceById(db: Kysely<DB>, id: string): Promise<string | null> {
  const row = await db.selectFrom('workspaces').select('id').where('id', '=', id).executeTakeFirst();
  return row?.id ?? null;
}

export async function workspaceIdsByName(db: Kysely<DB>, name: string): Promise<string[]> {
  const rows = await db
    .selectFrom('workspaces')
    .select('id')
    .where('name', '=', name)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map((r) => r.id);
}

export function listMembers(db: Kysely<DB>, workspaceId: string) {
  return db
    .selectFrom('workspace_members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['m.user_id', 'u.email', 'm.role', 'm.created_at'])
    .where('m.workspace_id', '=', workspaceId)
    .orderBy('m.created_at')
    .orderBy('u.email')
    .execute();
}

export async function insertMember(
  db: Kysely<DB>,
  member: { workspace_id: string; user_id: string; role: Role; created_at: number },
): Promise<void> {
  await db.insertInto('workspace_members').values(member).execute();
}

export async function setMemberRole(db: Kysely<DB>, workspaceId: string, userId: string, role: Role): Promise<void> {
  await db
    .updateTable('workspace_members')
    .set({ role })
    .where('workspace_id', '=', workspaceId)
    .where('user_id', '=', userId)
    .execute();
}

export async function deleteMember(db: Kysely<DB>, workspaceId: string, userId: string): Promise<void> {
  await db.deleteFrom('workspace_members').where('workspace_id', '=', workspaceId).where('user_id', '=', userId).execute();
}

export async function countOwners(db: Kysely<DB>, workspaceId: string): Promise<number> {
  const row = await db
    .selectFrom('workspace_members')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('workspace_id', '=', workspaceId)
    .where('role', '=', 'owner')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
