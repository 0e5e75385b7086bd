import type { Static } from '@sinclair/typebox';
import type { Kysely } from 'kysely';
import type { AppContext, Caller } from '../../context.js';
import type { DB, WorkspaceInvitesTable } from '../../db/schema.js';
import { AppError, notFound } from '../../errors.js';
import { newSessionToken, sha256Hex } from '../../lib/crypto.js';
import { INVITE_LIMITS } from '../../lib/limits.js';
import { iso, type Role } from '../../lib/schemas.js';
import { requireRole, roleAtLeast } from '../workspaces/access.js';
import { insertMember } from '../workspaces/workspaces.repository.js';
import * as repo from './invites.repository.js';
import type { CreateInviteBody, CreatedInvite, Invite, InvitePreview } from './invites.schemas.js';

/**
 * Invite links: a workspace admin (or owner) makes a single-use, expiring link for someone without
 * an account; signing up with it works even while signup is closed, and joins the workspace with
 * the invited role. Only the token's SHA-256 is stored, as with sessions and API keys.
 */

type InviteDto = Static<typeof Invite>;
type InviteRow = WorkspaceInvitesTable & { used_by_email?: string | null };
const DAY_MS = 86_400_000;

function statusOf(row: WorkspaceInvitesTable, now: number): InviteDto['status'] {
  if (row.used_at !== null) return 'used';
  if (row.revoked_at !== null) return 'revoked';
  return row.expires_at <= now ? 'expired' : 'open';
}

function toInviteDto(row: InviteRow, now: number): InviteDto {
  return {
    id: row.id,
    role: row.role,
    email: row.email,
    status: statusOf(row, now),
    createdAt: iso(row.created_at)!,
    expiresAt: iso(row.expires_at)!,
    usedAt: iso(row.used_at),
    usedBy: row.used_by_email ?? null,
  };
}

/**
 * Makes an invite link; admins and owners, for a role up to their own.
 *
 * @example
 *   const { path } = await createInvite(ctx, caller, workspaceId, { role: 'editor' }); // → /signup?invite=…
 */
export async function createInvite(
  ctx: AppContext,
  caller: Caller,
  workspaceId: string,
  body: Static<typeof CreateInviteBody>,
): Promise<Static<typeof CreatedInvite>> {
  const callerRole = await requireRole(ctx.db, caller.userId, workspaceId, 'admin');
  if (!roleAtLeast(callerRole, body.role)) {
    throw new AppError('FORBIDDEN', 403, `Your role (${callerRole}) may not invite someone as ${body.role}`);
  }
  const now = ctx.clock();
  if ((await repo.countOpenInvites(ctx.db, workspaceId, now)) >= INVITE_LIMITS.openPerWorkspace) {
    throw new AppError(
      'VALIDATION_ERROR',
      400,
      `This workspace already has ${INVITE_LIMITS.openPerWorkspace} open invites; revoke some first`,
    );
  }
  const token = newSessionToken();
  const row: WorkspaceInvitesTable = {
    id: ctx.newId(),
    workspace_id: workspaceId,
    token_hash: sha256Hex(token),
    role: body.role,
    email: body.email?.trim().toLowerCase() || null,
    created_by: caller.userId,
    created_at: now,
    expires_at: now + (body.expiresInDays ?? INVITE_LIMITS.defaultDays) * DAY_MS,
    used_at: null,
    used_by: null,
    revoked_at: null,
  };
  await repo.insertInvite(ctx.db, row);
  return { invite: toInviteDto(row, now), token, path: `/signup?invite=${token}` };
}

/** A workspace's invites, newest first, with their state; admins and owners (as member management). */
export async function listInvites(ctx: AppContext, caller: Caller, workspaceId: string): Promise<InviteDto[]> {
  await requireRole(ctx.db, caller.userId, workspaceId, 'admin');
  const now = ctx.clock();
  return (await repo.listInvites(ctx.db, workspaceId)).map((r) => toInviteDto(r, now));
}

/** Revokes an invite at once (a used one stays used); admins and owners. */
export async function revokeInvite(ctx: AppContext, caller: Caller, workspaceId: string, inviteId: string): Promise<InviteDto> {
  await requireRole(ctx.db, caller.userId, workspaceId, 'admin');
  const row = await repo.findInvite(ctx.db, workspaceId, inviteId);
  if (!row) throw notFound('INVITE_NOT_FOUND', 'Invite');
  const now = ctx.clock();
  if (row.used_at === null) await repo.revokeInvite(ctx.db, inviteId, now);
  return toInviteDto((await repo.findInvite(ctx.db, workspaceId, inviteId))!, now);
}

/**
 * The open invite a token names, or a 4xx in words: expired, revoked and used links say so. With
 * `throttle` (outside any transaction, so a count is never rolled back), a token that names nothing
 * counts as a failed attempt against the caller's address (the login throttle's per-address limit),
 * so links cannot be guessed by brute force.
 */
async function openInvite(db: Kysely<DB>, ctx: AppContext, token: string, ip: string, throttle: boolean) {
  const now = ctx.clock();
  const keys = ctx.loginLimiter.keysFor('', ip).slice(0, 1);
  const wait = throttle ? await ctx.loginLimiter.retryAfter(keys, now) : 0;
  if (wait > 0) {
    throw new AppError('RATE_LIMITED', 429, `Too many failed attempts; try again in ${wait} s`, { retryAfterSeconds: wait });
  }
  const row = await repo.findInviteByTokenHash(db, sha256Hex(token));
  if (!row) {
    if (throttle) await ctx.loginLimiter.recordFailure(keys, now);
    throw new AppError('INVITE_NOT_FOUND', 404, 'This invite link is not valid; check that you copied all of it');
  }
  const refuse = (why: string) => new AppError('INVITE_INVALID', 400, `This invite link ${why}; ask for a new one`);
  if (row.used_at !== null) throw refuse('has already been used');
  if (row.revoked_at !== null) throw refuse('was revoked');
  if (row.expires_at <= now) throw refuse('has expired');
  return row;
}

/** Checks a signup's invite link before its transaction, counting a guessed token against the address. */
export async function checkInviteLink(ctx: AppContext, token: string, ip: string): Promise<void> {
  await openInvite(ctx.db, ctx, token, ip, true);
}

/** What the signup page shows about a link (public: the token is the credential). */
export async function previewInvite(ctx: AppContext, token: string, ip: string): Promise<Static<typeof InvitePreview>> {
  const row = await openInvite(ctx.db, ctx, token, ip, true);
  return {
    workspaceId: row.workspace_id,
    workspaceName: row.workspace_name,
    role: row.role,
    email: row.email,
    expiresAt: iso(row.expires_at)!,
  };
}

/**
 * Checks the link again for a signup in progress (inside its transaction, after `checkInviteLink`):
 * still open, and for this address when it names one. Returns what `joinByInvite` needs once the user exists.
 */
export async function inviteForSignup(
  trx: Kysely<DB>,
  ctx: AppContext,
  input: { token: string; email: string; ip: string },
): Promise<{ id: string; workspaceId: string; role: Role }> {
  const row = await openInvite(trx, ctx, input.token, input.ip, false);
  if (row.email !== null && row.email !== input.email) {
    throw new AppError('INVITE_INVALID', 400, `This invite link is for ${row.email}; sign up with that address`);
  }
  return { id: row.id, workspaceId: row.workspace_id, role: row.role };
}

/** Uses the invite: the new user joins its workspace, and the link is spent (once, even under a race). */
export async function joinByInvite(
  trx: Kysely<DB>,
  ctx: AppContext,
  invite: { id: string; workspaceId: string; role: Role },
  userId: string,
): Promise<void> {
  const now = ctx.clock();
  if (!(await repo.markInviteUsed(trx, invite.id, userId, now))) {
    throw new AppError('INVITE_INVALID', 400, 'This invite link has already been used; ask for a new one');
  }
  await insertMember(trx, { workspace_id: invite.workspaceId, user_id: userId, role: invite.role, created_at: now });
}
