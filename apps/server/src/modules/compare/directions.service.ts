import type { Static } from '@sinclair/typebox';
import type { AppContext, Caller } from '../../context.js';
import type { MetricDirection } from '../../db/schema.js';
import { badRequest } from '../../errors.js';
import { requireRole } from '../workspaces/access.js';
import { workspaceColumns } from '../experiments/experiments.repository.js';
import { checkMetricName } from '../metrics/ingest.js';
import { inferDirection } from './directions.js';
import * as repo from './directions.repository.js';
import { COMPARE_LIMITS } from '../../lib/limits.js';
import type { DirectionsResponse } from './compare.schemas.js';

const MAX_DIRECTION_PATCH = COMPARE_LIMITS.directionsPerPatch;

export type DirectionsDto = Static<typeof DirectionsResponse>;

/**
 * The workspace's overrides, and what the name rule infers for every metric the workspace uses
 * (and every overridden name), so clients never need their own copy of the rule.
 */
async function directionsOf(ctx: AppContext, workspaceId: string): Promise<DirectionsDto> {
  const overrides = await repo.listDirections(ctx.db, workspaceId);
  const { metrics } = await workspaceColumns(ctx.db, workspaceId);
  const names = [...new Set([...metrics, ...overrides.keys()])].sort();
  return {
    directions: Object.fromEntries(overrides),
    inferred: Object.fromEntries(names.map((name) => [name, inferDirection(name)])),
  };
}

export async function getDirections(ctx: AppContext, caller: Caller, workspaceId: string): Promise<DirectionsDto> {
  await requireRole(ctx.db, caller.userId, workspaceId, 'viewer');
  return directionsOf(ctx, workspaceId);
}

export async function putDirections(
  ctx: AppContext,
  caller: Caller,
  workspaceId: string,
  patch: Record<string, MetricDirection | null>,
): Promise<DirectionsDto> {
  await requireRole(ctx.db, caller.userId, workspaceId, 'editor');
  const entries = Object.entries(patch);
  if (entries.length > MAX_DIRECTION_PATCH) {
    throw badRequest(`At most ${MAX_DIRECTION_PATCH} metrics per request`, [{ path: 'body', message: 'too many metrics' }]);
  }
  // Checked here whatever the key: the body schema's record checks only keys its pattern matches.
  for (const [name, direction] of entries) {
    checkMetricName(`body.${name}`, name);
    if (direction !== null && direction !== 'min' && direction !== 'max') {
      throw badRequest(`body.${name} must be "min", "max" or null`, [
        { path: `body.${name}`, message: 'must be "min", "max" or null' },
      ]);
    }
  }
  await ctx.db.transaction().execute((trx) => repo.patchDirections(trx, workspaceId, entries, ctx.clock()));
  return directionsOf(ctx, workspaceId);
}
