import type { Static } from '@sinclair/typebox';
import type { AppContext, Caller } from '../../context.js';
import { notFound } from '../../errors.js';
import { newApiKey, sha256Hex } from '../../lib/crypto.js';
import { iso } from '../../lib/schemas.js';
import { userByEmail } from '../auth/auth.service.js';
import * as repo from './keys.repository.js';
import type { CreateKeyBody, Key } from './keys.schemas.js';
import type { ApiKeysTable } from '../../db/schema.js';

export type KeyDto = Static<typeof Key>;
/** `expiresInDays`: whole days from now; absent: the key does not expire. */
export type NewKey = Static<typeof CreateKeyBody>;

function toKeyDto(r: {
  id: string;
  name: string;
  prefix: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
  expires_at: number | null;
  scope: 'read' | null;
}): KeyDto {
  return {
    id: r.id,
    name: r.name,
    prefix: r.prefix,
    createdAt: iso(r.created_at)!,
    lastUsed: iso(r.last_used_at),
    revoked: r.revoked_at !== null,
    scope: r.scope === 'read' ? 'read' : 'full',
    expiresAt: iso(r.expires_at),
  };
}

const PREFIX_LENGTH = 12; // "tora_" + 7 characters: enough to tell keys apart, useless to an attacker.

/** Creates a key for a user; the plaintext is returned here and never again. */
export async function createKey(ctx: AppContext, userId: string, input: NewKey): Promise<KeyDto & { key: string }> {
  const { name } = input;
  const key = newApiKey();
  const now = ctx.clock();
  const row: ApiKeysTable = {
    id: ctx.newId(),
    user_id: userId,
    name: name.trim(),
    prefix: key.slice(0, PREFIX_LENGTH),
    key_hash: sha256Hex(key),
    created_at: now,
    last_used_at: null,
    revoked_at: null,
    expires_at: input.expiresInDays === undefined ? null : now + input.expiresInDays * 86_400_000,
    scope: input.scope === 'read' ? 'read' : null,
  };
  await repo.insertKey(ctx.db, row);
  return { ...toKeyDto(row), key };
}

export async function listKeys(ctx: AppContext, caller: Caller): Promise<KeyDto[]> {
  const rows = await repo.listKeys(ctx.db, caller.userId);
  // Uses not yet written by the coalescing tracker still show.
  return rows.map((r) => toKeyDto({ ...r, last_used_at: ctx.keyUsage.lastUse(r.id) ?? r.last_used_at }));
}

export async function revokeKey(ctx: AppContext, caller: Caller, id: string): Promise<void> {
  if (!(await repo.revokeKey(ctx.db, caller.userId, id, ctx.clock()))) throw notFound('KEY_NOT_FOUND', 'API key');
}

export async function createKeyForEmail(ctx: AppContext, email: string, input: NewKey): Promise<KeyDto & { key: string }> {
  const user = await userByEmail(ctx, email);
  return createKey(ctx, user.id, input);
}

/** Whose key this is on this server (for the CLI's messages), or `null` when it is not one of ours. */
export function keyOwnerEmail(ctx: AppContext, key: string): Promise<string | null> {
  return repo.findOwnerEmailByHash(ctx.db, sha256Hex(key));
}
