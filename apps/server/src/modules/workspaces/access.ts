import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import { AppError, notFound, type ErrorCode } from '../../errors.js';
import { ROLES, type Role } from '../../lib/schemas.js';
import { memberRole, memberWorkspaceIds } from './workspaces.repository.js';

export function roleAtLeast(role: Role, min: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(min); // ROLES runs weakest first
}

const ACTION: Record<Role, string> = {
  viewer: 'read',
  editor: 'write to',
  admin: 'manage members of',
  owner: 'rename or delete',
};

/** The caller's role in the workspace; null for a non-member, who may see nothing of it. */
export function roleIn(db: Kysely<DB>, userId: string, workspaceId: string): Promise<Role | null> {
  return memberRole(db, userId, workspaceId);
}

/** Which of these workspaces the user may read (any role). */
export async function readableWorkspaces(db: Kysely<DB>, userId: string, workspaceIds: readonly string[]): Promise<Set<string>> {
  return new Set(await memberWorkspaceIds(db, userId, workspaceIds));
}

/** Every workspace the user may read, for lists across workspaces. */
export function readableWorkspaceIds(db: Kysely<DB>, userId: string): Promise<string[]> {
  return memberWorkspaceIds(db, userId);
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
