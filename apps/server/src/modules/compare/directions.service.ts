import type { AppContext, Caller } from '../../context.js';
import type { MetricDirection } from '../../db/schema.js';
import { badRequest } from '../../errors.js';
import { requireRole } from '../workspaces/access.js';
import * as repo from './directions.repository.js';

export const MAX_DIRECTION_PATCH = 200;

/** The workspace's direction overrides (metrics not listed use the direction inferred from their name). */
export async function getDirections(
  ctx: AppContext,
  caller: Caller,
  workspaceId: string,
): Promise<{ directions: Record<string, MetricDirection> }> {
  await requireRole(ctx.db, caller.userId, workspaceId, 'viewer');
  return { directions: Object.fromEntries(await repo.listDirections(ctx.db, workspaceId)) };
}

export async function putDirections(
  ctx: AppContext,
  caller: Caller,
  workspaceId: string,
  patch: Record<string, MetricDirection | null>,
): Promise<{ directions: Record<string, MetricDirection> }> {
  await requireRole(ctx.db, caller.userId, workspaceId, 'editor');
  const entries = Object.entries(patch);
  if (entries.length > MAX_DIRECTION_PATCH) {
    throw badRequest(`At most ${MAX_DIRECTION_PATCH} metrics per request`, [{ path: 'body', message: 'too many metrics' }]);
  }
  await ctx.db.transaction().execute((trx) => repo.patchDirections(trx, workspaceId, entries, ctx.clock()));
  return { directions: Object.fromEntries(await repo.listDirections(ctx.db, workspaceId)) };
}
