import type { Static } from '@sinclair/typebox';
import type { AppContext } from '../../context.js';
import type { UsersTable } from '../../db/schema.js';
import { AppError, badRequest } from '../../errors.js';
import { DUMMY_PASSWORD_HASH, hashPassword, newSessionToken, sha256Hex, verifyPassword } from '../../lib/crypto.js';
import { iso } from '../../lib/schemas.js';
import { checkInviteLink, inviteForSignup, joinByInvite } from '../invites/invites.service.js';
import { insertWorkspace } from '../workspaces/workspaces.repository.js';
import * as repo from './auth.repository.js';
import type { Credentials, SetupState, User } from './auth.schemas.js';
import { passwordProblem } from './password-policy.js';

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export type UserDto = Static<typeof User>;

function toUserDto(row: { id: string; email: string; default_workspace_id: string | null; created_at: number }): UserDto {
  return { id: row.id, email: row.email, defaultWorkspaceId: row.default_workspace_id, createdAt: iso(row.created_at)! };
}

/** The normalized e-mail address, or a 400 naming the field: every new password passes the same policy. */
function validateCredentials(email: string, password: string): string {
  const normalized = normalizeEmail(email);
  if (!/^[^\s@]+@[^\s@]+$/.test(normalized)) {
    throw badRequest('body.email must be an email address', [{ path: 'body.email', message: 'must be an email address' }]);
  }
  const problem = passwordProblem(password, normalized);
  if (problem !== null) {
    throw badRequest(`body.password ${problem}`, [{ path: 'body.password', message: problem }]);
  }
  return normalized;
}

/**
 * Creates a user with their "Default" workspace. `policy` decides whether signup is open:
 * the CLI always may; the HTTP route only for the first user, when TORA_ALLOW_SIGNUP=true, or with
 * an open invite link (`input.invite`), which also joins the user to the invite's workspace.
 */
export async function createUser(
  ctx: AppContext,
  input: Static<typeof Credentials> & { invite?: string },
  policy: 'cli' | 'http',
  ip = '',
): Promise<UserDto> {
  const email = validateCredentials(input.email, input.password);
  const passwordHash = await hashPassword(input.password);
  const now = ctx.clock();
  const id = ctx.newId();
  const workspaceId = ctx.newId();
  if (input.invite !== undefined) await checkInviteLink(ctx, input.invite, ip);
  await ctx.db.transaction().execute(async (trx) => {
    const invite = input.invite === undefined ? null : await inviteForSignup(trx, ctx, { token: input.invite, email, ip });
    if (policy === 'http' && invite === null && !ctx.config.allowSignup && (await repo.countUsers(trx)) > 0) {
      throw new AppError('SIGNUP_DISABLED', 403, 'Signup is closed on this server; ask an admin to create your account');
    }
    if (await repo.findUserByEmail(trx, email)) {
      throw new AppError('EMAIL_TAKEN', 409, `An account with ${email} already exists`);
    }
    await repo.insertUser(trx, { id, email, password_hash: passwordHash, created_at: now });
    await insertWorkspace(trx, { id: workspaceId, name: 'Default', description: '', created_at: now }, id);
    await repo.setDefaultWorkspace(trx, id, workspaceId);
    if (invite) await joinByInvite(trx, ctx, invite, id);
  });
  return { id, email, defaultWorkspaceId: workspaceId, createdAt: iso(now)! };
}

export async function startSession(ctx: AppContext, userId: string): Promise<{ token: string; expiresAt: number }> {
  const token = newSessionToken();
  const now = ctx.clock();
  const expiresAt = now + ctx.config.sessionTtlHours * 3600_000;
  await repo.insertSession(ctx.db, { id: sha256Hex(token), user_id: userId, created_at: now, expires_at: expiresAt });
  return { token, expiresAt };
}

export async function login(ctx: AppContext, input: Static<typeof Credentials>, ip: string): Promise<UserDto> {
  const email = normalizeEmail(input.email);
  const keys = ctx.loginLimiter.keysFor(email, ip);
  const now = ctx.clock();
  const wait = await ctx.loginLimiter.retryAfter(keys, now);
  if (wait > 0) {
    throw new AppError('RATE_LIMITED', 429, `Too many failed logins; try again in ${wait} s`, { retryAfterSeconds: wait });
  }
  const user = await repo.findUserByEmail(ctx.db, email);
  // An unknown address costs the same scrypt as a known one, so timing does not reveal accounts.
  const ok = await verifyPassword(input.password, user?.password_hash ?? DUMMY_PASSWORD_HASH);
  if (!user || !ok) {
    await ctx.loginLimiter.recordFailure(keys, now);
    throw new AppError('INVALID_CREDENTIALS', 401, 'Email or password is wrong');
  }
  // Only this address's count for the account: the address and account-wide counts keep running.
  await ctx.loginLimiter.reset(keys[1]!);
  return toUserDto(user);
}

export async function logout(ctx: AppContext, sessionId: string | undefined): Promise<void> {
  if (sessionId) await repo.deleteSession(ctx.db, sessionId);
}

export async function me(ctx: AppContext, userId: string): Promise<UserDto> {
  const user = await repo.findUserById(ctx.db, userId);
  if (!user) throw new AppError('UNAUTHORIZED', 401, 'Your account no longer exists');
  return toUserDto(user);
}

export async function setupState(ctx: AppContext): Promise<Static<typeof SetupState>> {
  const hasUsers = (await repo.countUsers(ctx.db)) > 0;
  return { hasUsers, signupOpen: !hasUsers || ctx.config.allowSignup };
}

/** The user with this e-mail address (normalized), or USER_NOT_FOUND naming it (for the CLI). */
export async function userByEmail(ctx: AppContext, email: string): Promise<UsersTable> {
  const normalized = normalizeEmail(email);
  const user = await repo.findUserByEmail(ctx.db, normalized);
  if (!user) throw new AppError('USER_NOT_FOUND', 404, `No user with email ${normalized}`);
  return user;
}

/** Every user, oldest first (for `tora user list`). */
export async function listUsers(ctx: AppContext): Promise<UserDto[]> {
  return (await repo.listUsers(ctx.db)).map(toUserDto);
}

/**
 * Sets a user's password (an admin's `tora user set-password`, e.g. after a forgotten one) and
 * ends every session of that user; API keys stay valid. Returns the number of sessions ended.
 */
export async function setPassword(ctx: AppContext, email: string, password: string): Promise<number> {
  const user = await userByEmail(ctx, validateCredentials(email, password));
  const passwordHash = await hashPassword(password);
  return ctx.db.transaction().execute(async (trx) => {
    await repo.setPasswordHash(trx, user.id, passwordHash);
    return repo.deleteUserSessions(trx, user.id);
  });
}

/** The user's default workspace (MLflow's experiment "0"); null when they have none. */
export async function defaultWorkspaceOf(ctx: AppContext, userId: string): Promise<string | null> {
  return (await repo.findUserById(ctx.db, userId))?.default_workspace_id ?? null;
}

/** Whether the workspace is some user's default one (which stays: it is never trashed). */
export function isDefaultWorkspace(ctx: AppContext, workspaceId: string): Promise<boolean> {
  return repo.isDefaultWorkspace(ctx.db, workspaceId);
}
