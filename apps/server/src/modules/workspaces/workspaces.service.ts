import type { Static } from '@sinclair/typebox';
import type { Kysely } from 'kysely';
import type { AppContext, Caller } from '../../context.js';
import type { DB, Role } from '../../db/schema.js';
import { AppError, notFound } from '../../errors.js';
import { iso } from '../../lib/schemas.js';
import { findUserByEmail } from '../auth/auth.repository.js';
import { normalizeEmail } from '../auth/auth.service.js';
import { removeWorkspaceFiles } from '../artifacts/artifacts.store.js';
import { requireRole, roleAtLeast, roleIn } from './access.js';
import { workspaceColumns as columnsOf } from '../experiments/experiments.repository.js';
import { setWorkspaceTrashed, workspacesTrashedAt } from './trash.repository.js';
import * as repo from './workspaces.repository.js';
import type { Member, Workspace } from './workspaces.schemas.js';

type WorkspaceDto = Static<typeof Workspace>;
type MemberDto = Static<typeof Member>;

function toWorkspaceDto(row: {
  id: string;
  name: string;
  description: string;
  created_at: number;
  updated_at: number;
  role: Role;
}): WorkspaceDto {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    role: row.role,
    createdAt: iso(row.created_at)!,
    updatedAt: iso(row.updated_at)!,
  };
}

function toMemberDto(row: { user_id: string; email: string; role: Role; created_at: number }): MemberDto {
  return { userId: row.user_id, email: row.email, role: row.role, createdAt: iso(row.created_at)! };
}

/**
 * Creates a workspace owned by the caller. `within` writes more in the same transaction (MLflow's
 * experiments/create: the experiment's tags), so the workspace and they commit together.
 */
export async function createWorkspace(
  ctx: AppContext,
  caller: Caller,
  input: { name: string; description?: string },
  within?: (trx: Kysely<DB>, workspaceId: string) => Promise<void>,
): Promise<WorkspaceDto> {
  const now = ctx.clock();
  const ws = { id: ctx.newId(), name: input.name.trim(), description: input.description ?? '', created_at: now };
  await ctx.db.transaction().execute(async (trx) => {
    await repo.insertWorkspace(trx, ws, caller.userId);
    if (within) await within(trx, ws.id);
  });
  return toWorkspaceDto({ ...ws, updated_at: now, role: 'owner' });
}

export async function listWorkspaces(ctx: AppContext, caller: Caller): Promise<WorkspaceDto[]> {
  const rows = await repo.listForUser(ctx.db, caller.userId);
  return rows.map(toWorkspaceDto);
}

export async function getWorkspace(ctx: AppContext, caller: Caller, id: string): Promise<WorkspaceDto> {
  const role = await requireRole(ctx.db, caller.userId, id, 'viewer');
  const ws = await repo.findWorkspace(ctx.db, id);
  if (!ws) throw notFound('WORKSPACE_NOT_FOUND', 'Workspace');
  return toWorkspaceDto({ ...ws, role });
}

export async function updateWorkspace(
  ctx: AppContext,
  caller: Caller,
  id: string,
  patch: { name?: string; description?: string },
): Promise<WorkspaceDto> {
  await requireRole(ctx.db, caller.userId, id, 'owner');
  await repo.updateWorkspace(ctx.db, id, {
    ...(patch.name !== undefined ? { name: patch.name.trim() } : {}),
    ...(patch.description !== undefined ? { description: patch.description } : {}),
    updated_at: ctx.clock(),
  });
  return getWorkspace(ctx, caller, id);
}

export async function deleteWorkspace(ctx: AppContext, caller: Caller, id: string): Promise<void> {
  await requireRole(ctx.db, caller.userId, id, 'owner');
  await ctx.db.transaction().execute((trx) => repo.deleteWorkspace(trx, id));
  await removeWorkspaceFiles(ctx.blobs, id);
}

export async function listMembers(ctx: AppContext, caller: Caller, id: string): Promise<MemberDto[]> {
  await requireRole(ctx.db, caller.userId, id, 'viewer');
  return (await repo.listMembers(ctx.db, id)).map(toMemberDto);
}

function assertMayGrant(callerRole: Role, role: Role): void {
  if (!roleAtLeast(callerRole, role)) {
    throw new AppError('FORBIDDEN', 403, `Your role (${callerRole}) may not grant the role ${role}`);
  }
}

export async function addMember(
  ctx: AppContext,
  caller: Caller,
  id: string,
  input: { email: string; role: Role },
): Promise<MemberDto> {
  const callerRole = await requireRole(ctx.db, caller.userId, id, 'admin');
  assertMayGrant(callerRole, input.role);
  const user = await findUserByEmail(ctx.db, normalizeEmail(input.email));
  if (!user)
    throw new AppError('USER_NOT_FOUND', 404, `No user with email ${normalizeEmail(input.email)}; they must sign up first`);
  if ((await roleIn(ctx.db, user.id, id, { includeTrashed: true })) !== null) {
    throw new AppError('ALREADY_MEMBER', 409, `${user.email} is already a member of this workspace`);
  }
  const now = ctx.clock();
  await repo.insertMember(ctx.db, { workspace_id: id, user_id: user.id, role: input.role, created_at: now });
  return toMemberDto({ user_id: user.id, email: user.email, role: input.role, created_at: now });
}

export async function changeMemberRole(
  ctx: AppContext,
  caller: Caller,
  id: string,
  userId: string,
  role: Role,
): Promise<MemberDto> {
  const callerRole = await requireRole(ctx.db, caller.userId, id, 'admin');
  return ctx.db.transaction().execute(async (trx) => {
    const current = await roleIn(trx, userId, id, { includeTrashed: true });
    if (current === null) throw notFound('MEMBER_NOT_FOUND', 'Member');
    assertMayGrant(callerRole, role);
    assertMayGrant(callerRole, current);
    if (current === 'owner' && role !== 'owner' && (await repo.countOwners(trx, id)) <= 1) {
      throw new AppError('LAST_OWNER', 409, 'The last owner of a workspace cannot be demoted; make someone else owner first');
    }
    await repo.setMemberRole(trx, id, userId, role);
    const member = (await repo.listMembers(trx, id)).find((m) => m.user_id === userId);
    if (!member) throw notFound('MEMBER_NOT_FOUND', 'Member');
    return toMemberDto(member);
  });
}

export async function removeMember(ctx: AppContext, caller: Caller, id: string, userId: string): Promise<void> {
  // Leaving (removing yourself) needs only membership; removing others needs admin.
  const callerRole = await requireRole(ctx.db, caller.userId, id, userId === caller.userId ? 'viewer' : 'admin');
  await ctx.db.transaction().execute(async (trx) => {
    const current = await roleIn(trx, userId, id, { includeTrashed: true });
    if (current === null) throw notFound('MEMBER_NOT_FOUND', 'Member');
    if (userId !== caller.userId) assertMayGrant(callerRole, current);
    if (current === 'owner' && (await repo.countOwners(trx, id)) <= 1) {
      throw new AppError(
        'LAST_OWNER',
        409,
        'The last owner cannot leave or be removed; make someone else owner or delete the workspace',
      );
    }
    await repo.deleteMember(trx, id, userId);
  });
}

/** The hyperparameter keys and metric names used in a workspace (for the dashboard's column picker). */
export async function workspaceColumns(
  ctx: AppContext,
  caller: Caller,
  id: string,
): Promise<{ hyperparams: string[]; metrics: string[] }> {
  await requireRole(ctx.db, caller.userId, id, 'viewer');
  return columnsOf(ctx.db, id);
}

// ---- the trash, as MLflow's routes see it (they show trashed workspaces and restore them) ----

/** A workspace with when it was trashed (null: it is not). */
export interface WorkspaceWithTrash {
  id: string;
  name: string;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

/** The user's workspaces (with their role), oldest first, trashed ones included with when they were trashed. */
export async function workspacesWithTrash(ctx: AppContext, userId: string): Promise<(WorkspaceWithTrash & { role: Role })[]> {
  const rows = await repo.listForUser(ctx.db, userId, { includeTrashed: true });
  const trashed = await workspacesTrashedAt(
    ctx.db,
    rows.map((r) => r.id),
  );
  return rows.map((r) => ({ ...r, deleted_at: trashed.get(r.id) ?? null }));
}

/** The workspace, trashed or not (access is the caller's check); undefined when there is none. */
export async function workspaceWithTrash(ctx: AppContext, id: string): Promise<WorkspaceWithTrash | undefined> {
  const ws = await repo.findWorkspace(ctx.db, id);
  if (!ws) return undefined;
  return { ...ws, deleted_at: (await workspacesTrashedAt(ctx.db, [ws.id])).get(ws.id) ?? null };
}

/** Renames a workspace, trashed or not, whose owner's role the caller has checked (MLflow's experiments/update). */
export async function renameWorkspace(ctx: AppContext, id: string, name: string): Promise<void> {
  await repo.updateWorkspace(ctx.db, id, { name, updated_at: ctx.clock() });
}

/** Trashes the workspace now, or restores it; the caller has checked the owner's role (MLflow's experiments/delete, restore). */
export async function setTrashed(ctx: AppContext, id: string, trashed: boolean): Promise<void> {
  await setWorkspaceTrashed(ctx.db, id, trashed ? ctx.clock() : null);
}
