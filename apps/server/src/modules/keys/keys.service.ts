import type { AppContext, Caller } from '../../context.js';
import { notFound } from '../../errors.js';
import { newApiKey, sha256Hex } from '../../lib/crypto.js';
import { iso } from '../../lib/schemas.js';
import { userByEmail } from '../auth/auth.service.js';
import * as repo from './keys.repository.js';

export interface KeyDto {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsed: string | null;
  revoked: boolean;
}

const PREFIX_LENGTH = 12; // "tora_" + 7 characters: enough to tell keys apart, useless to an attacker.

/** Creates a key for a user; the plaintext is returned here and never again. */
export async function createKey(ctx: AppContext, userId: string, name: string): Promise<KeyDto & { key: string }> {
  const key = newApiKey();
  const now = ctx.clock();
  const row = {
    id: ctx.newId(),
    user_id: userId,
    name: name.trim(),
    prefix: key.slice(0, PREFIX_LENGTH),
    key_hash: sha256Hex(key),
    created_at: now,
    last_used_at: null,
    revoked_at: null,
  };
  await repo.insertKey(ctx.db, row);
  return { id: row.id, name: row.name, prefix: row.prefix, createdAt: iso(now)!, lastUsed: null, revoked: false, key };
}

export async function listKeys(ctx: AppContext, caller: Caller): Promise<KeyDto[]> {
  const rows = await repo.listKeys(ctx.db, caller.userId);
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    prefix: r.prefix,
    createdAt: iso(r.created_at)!,
    // Uses not yet written by the coalescing tracker still show.
    lastUsed: iso(ctx.keyUsage.lastUse(r.id) ?? r.last_used_at),
    revoked: r.revoked_at !== null,
  }));
}

export async function revokeKey(ctx: AppContext, caller: Caller, id: string): Promise<void> {
  if (!(await repo.revokeKey(ctx.db, caller.userId, id, ctx.clock()))) throw notFound('KEY_NOT_FOUND', 'API key');
}

export async function createKeyForEmail(ctx: AppContext, email: string, name: string): Promise<KeyDto & { key: string }> {
  const user = await userByEmail(ctx, email);
  return createKey(ctx, user.id, name);
}

/** Whose key this is on this server (for the CLI's messages), or `null` when it is not one of ours. */
export function keyOwnerEmail(ctx: AppContext, key: string): Promise<string | null> {
  return repo.findOwnerEmailByHash(ctx.db, sha256Hex(key));
}
