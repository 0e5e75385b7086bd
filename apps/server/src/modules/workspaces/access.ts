import { sql, type Kysely } from 'kysely';
import type { DB, Role } from '../../db/schema.js';
import { AppError, notFound, type ErrorCode } from '../../errors.js';
import { workspaceNotMlflowDeleted } from '../mlflow/mlflow.visibility.js';

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

/** The user's role in a workspace Tora shows: none where MLflow's experiments/delete hid it (until restored). */
export async function liveRoleIn(db: Kysely<DB>, userId: string, workspaceId: string): Promise<Role | null> {
  const row = await db
    .selectFrom('workspace_members')
    .select('role')
    .where('workspace_id', '=', workspaceId)
    .where('user_id', '=', userId)
    .where(workspaceNotMlflowDeleted(sql.ref('workspace_members.workspace_id')))
    .executeTakeFirst();
  return row?.role ?? null;
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

/**
 * The one access rule: membership of the workspace. Non-members get the not-found error of the
 * thing they asked for (existence is not leaked); members below `min` get 403. A workspace deleted
 * through MLflow is not found either (see mlflow.visibility.ts).
 */
export async function requireRole(
  db: Kysely<DB>,
  userId: string,
  workspaceId: string,
  min: Role,
  missing: Missing = WORKSPACE_MISSING,
): Promise<Role> {
  return checkRole(await liveRoleIn(db, userId, workspaceId), min, missing);
}

/** The same rule for MLflow's routes, which also see (and restore) workspaces deleted through MLflow. */
export async function requireRoleIncludingMlflowDeleted(
  db: Kysely<DB>,
  userId: string,
  workspaceId: string,
  min: Role,
  missing: Missing = WORKSPACE_MISSING,
): Promise<Role> {
  return checkRole(await roleIn(db, userId, workspaceId), min, missing);
}
