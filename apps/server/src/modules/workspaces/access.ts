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
  return memberRole(db, userId, workspaceId, { includeMlflowDeleted: true });
}

/** The user's role in a workspace Tora shows: none where MLflow's experiments/delete hid it (until restored). */
export function liveRoleIn(db: Kysely<DB>, userId: string, workspaceId: string): Promise<Role | null> {
  return memberRole(db, userId, workspaceId, { includeMlflowDeleted: false });
}

/** Which of these workspaces the user may read (any role); one deleted through MLflow is not readable. */
export async function readableWorkspaces(db: Kysely<DB>, userId: string, workspaceIds: readonly string[]): Promise<Set<string>> {
  return new Set(await memberWorkspaceIds(db, userId, workspaceIds));
}

/** Every workspace the user may read, for lists across workspaces (none deleted through MLflow). */
export function readableWorkspaceIds(db: Kysely<DB>, userId: string): Promise<string[]> {
  return memberWorkspaceIds(db, userId);
}

type Missing = { code: ErrorCode; what: string };
const WORKSPACE_MISSING: Missing = { code: 'WORKSPACE_NOT_FOUND', what: 'Workspace' };

function checkRole(role: Role | null, min: Role, missing: Missing): Role {
  if (role === null) throw notFound(missing.code, missing.what);
  if (!roleAtLeast(role, min)) {
    throw new AppError('FORBIDDEN', 403, `Your role (${role}) may not ${ACTION[min]} this workspace; it needs ${min}`);
  }
  return role;
}

type RoleCheck = (db: Kysely<DB>, userId: string, workspaceId: string, min: Role, missing?: Missing) => Promise<Role>;

/** The access check over one way of reading the caller's role. */
const roleCheck =
  (lookup: typeof roleIn): RoleCheck =>
  async (db, userId, workspaceId, min, missing = WORKSPACE_MISSING) =>
    checkRole(await lookup(db, userId, workspaceId), min, missing);

/**
 * The one access rule: membership of the workspace. Non-members get the not-found error of the
 * thing they asked for (existence is not leaked); members below `min` get 403. A workspace deleted
 * through MLflow is not found either (see mlflow.visibility.repository.ts).
 */
export const requireRole: RoleCheck = roleCheck(liveRoleIn);

/** The same rule for MLflow's routes, which also see (and restore) workspaces deleted through MLflow. */
export const requireRoleIncludingMlflowDeleted: RoleCheck = roleCheck(roleIn);
