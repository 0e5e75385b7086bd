import type { Kysely } from 'kysely';
import type { DB, Role } from '../../db/schema.js';
import { AppError, notFound, type ErrorCode } from '../../errors.js';

export const ROLES: readonly Role[] = ['viewer', 'editor', 'admin', 'owner'];

const RANK: Record<Role, number> = { viewer: 1, editor: 2, admin: 3, owner: 4 };

export function roleAtLeast(role: Role, min: Role): boolean {
  return RANK[role] >= RANK[min];
}

const ACTION: Record<Role, string> = {
  viewer: 'read',
  editor: 'write to',
  admin: 'manage members of',
  owner: 'rename or delete',
};

export async function roleIn(db: Kysely<DB>, userId: string, workspaceId: string): Promise<Role | null> {
  const row = await db
    .selectFrom('workspace_members')
    .select('role')
    .where('workspace_id', '=', workspaceId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row?.role ?? null;
}

/**
 * The one access rule: membership of the workspace. Non-members get the not-found error of the
 * thing they asked for (existence is not leaked); members below `min` get 403.
 */
export async function requireRole(
  db: Kysely<DB>,
  userId: string,
  workspaceId: string,
  min: Role,
  missing: { code: ErrorCode; what: string } = { code: 'WORKSPACE_NOT_FOUND', what: 'Workspace' },
): Promise<Role> {
  const role = await roleIn(db, userId, workspaceId);
  if (role === null) throw notFound(missing.code, missing.what);
  if (!roleAtLeast(role, min)) {
    throw new AppError('FORBIDDEN', 403, `Your role (${role}) may not ${ACTION[min]} this workspace; it needs ${min}`);
  }
  return role;
}
