import type { Static } from '@sinclair/typebox';
import type { AppContext, Caller } from '../../context.js';
import { AppError, notFound } from '../../errors.js';
import { EXPERIMENT_LIMITS } from '../../lib/limits.js';
import { iso } from '../../lib/schemas.js';
import { roleIn } from '../workspaces/access.js';
import type { ChainLink as ChainLinkSchema, ReferenceResponse } from './experiments.schemas.js';
import { experimentForCaller } from './experiments.service.js';
import { effectiveStatus } from './status.js';
import * as repo from './experiments.repository.js';

type ChainLink = Static<typeof ChainLinkSchema>;
type ReferenceDto = Static<typeof ReferenceResponse>;

const MAX_CHAIN = EXPERIMENT_LIMITS.referenceChain;

/**
 * The experiment's references, oldest first: [..., reference of reference, reference]. The walk
 * stops at an experiment the caller may not read, so the chain never leaks another workspace.
 */
async function chainOf(ctx: AppContext, caller: Caller, startId: string | null): Promise<ChainLink[]> {
  const links: ChainLink[] = [];
  const seen = new Set<string>();
  for (let id = startId; id !== null && !seen.has(id) && links.length < MAX_CHAIN;) {
    seen.add(id);
    const row = await repo.findLiveExperiment(ctx.db, id);
    if (!row || (await roleIn(ctx.db, caller.userId, row.workspaceId, { includeTrashed: false })) === null) break;
    links.push({
      id: row.id,
      name: row.name,
      status: effectiveStatus(ctx, row),
      workspaceId: row.workspaceId,
      createdAt: iso(row.createdAt)!,
    });
    id = row.referenceId;
  }
  return links.reverse();
}

export async function getReference(ctx: AppContext, caller: Caller, id: string): Promise<ReferenceDto> {
  const { row } = await experimentForCaller(ctx, caller, id, 'viewer');
  const chain = await chainOf(ctx, caller, row.referenceId);
  // A reference the caller cannot read (another workspace's) is not shown, not even its id.
  return { referenceId: chain.length > 0 ? row.referenceId : null, chain };
}

export async function setReference(ctx: AppContext, caller: Caller, id: string, referenceId: string): Promise<ReferenceDto> {
  await experimentForCaller(ctx, caller, id, 'editor');
  if (referenceId === id) throw new AppError('REFERENCE_CYCLE', 409, 'An experiment cannot be its own reference');
  await experimentForCaller(ctx, caller, referenceId, 'viewer').catch((err: unknown) => {
    if (err instanceof AppError && err.status === 404) throw notFound('REFERENCE_NOT_FOUND', 'Reference experiment');
    throw err;
  });
  await ctx.db.transaction().execute(async (trx) => {
    // Walk the whole chain (whatever the caller can read) so no cycle is ever stored.
    const seen = new Set<string>();
    for (let cur: string | null = referenceId; cur !== null && !seen.has(cur);) {
      if (cur === id) throw new AppError('REFERENCE_CYCLE', 409, 'That reference would make a cycle of references');
      seen.add(cur);
      cur = (await repo.findExperiment(trx, cur))?.referenceId ?? null;
    }
    await repo.updateExperiment(trx, id, { referenceId, updatedAt: ctx.clock() });
  });
  return getReference(ctx, caller, id);
}

export async function clearReference(ctx: AppContext, caller: Caller, id: string, refId: string): Promise<void> {
  const { row } = await experimentForCaller(ctx, caller, id, 'editor');
  if (row.referenceId !== refId) throw notFound('REFERENCE_NOT_FOUND', 'Reference');
  await repo.updateExperiment(ctx.db, id, { referenceId: null, updatedAt: ctx.clock() });
}
