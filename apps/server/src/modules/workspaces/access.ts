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

/**
 * Whether an access check sees trashed workspaces. Tora's own routes do not (a trashed workspace is
 * not found); MLflow's do, to show deleted experiments and restore them.
 */
export interface Visibility {
  includeTrashed: boolean;
}

/** The caller's role in the workspace; null for a non-member, who may see nothing of it, or for a trashed one unless included. */
export function roleIn(db: Kysely<DB>, userId: string, workspaceId: string, visibility: Visibility): Promise<Role | null> {
  return memberRole(db, userId, workspaceId, visibility);
}

/** Which of these workspaces the user may read (any role); a trashed one is not readable. */
export async function readableWorkspaces(db: Kysely<DB>, userId: string, workspaceIds: readonly string[]): Promise<Set<string>> {
  return new Set(await memberWorkspaceIds(db, userId, workspaceIds));
}

/** Every workspace the user may read, for lists across workspaces (none trashed). */
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

/**
 * The one access rule, for both APIs: membership of the workspace. Non-members get the not-found
 * error of the thing they asked for (`missing`; existence is not leaked); members below `min` get
 * 403. A trashed workspace is not found either, unless `includeTrashed` (MLflow's routes).
 *
 * @example await requireRole(ctx.db, caller.userId, workspaceId, 'editor', { missing: EXPERIMENT_MISSING })
 */
export async function requireRole(
  db: Kysely<DB>,
  userId: string,
  workspaceId: string,
  min: Role,
  opts: { missing?: Missing; includeTrashed?: boolean } = {},
): Promise<Role> {
  const role = await roleIn(db, userId, workspaceId, { includeTrashed: opts.includeTrashed ?? false });
  return checkRole(role, min, opts.missing ?? WORKSPACE_MISSING);
}
