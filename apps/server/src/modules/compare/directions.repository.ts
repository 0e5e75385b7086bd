import type { Kysely } from 'kysely';
import type { DB, MetricDirection } from '../../db/schema.js';

export async function listDirections(db: Kysely<DB>, workspaceId: string): Promise<Map<string, MetricDirection>> {
  const rows = await db
    .selectFrom('metric_directions')
    .select(['name', 'direction'])
    .where('workspace_id', '=', workspaceId)
    .orderBy('name')
    .execute();
  return new Map(rows.map((r) => [r.name, r.direction]));
}

/** Changes whenever a direction of the workspace is set or removed. */
export function directionsFreshness(db: Kysely<DB>, workspaceId: string) {
  return db
    .selectFrom('metric_directions')
    .select((eb) => [eb.fn.max('updated_at').as('updated'), eb.fn.countAll().as('n')])
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirst();
}

/** Applies a patch: a direction sets the override, null removes it. */
export async function patchDirections(
  db: Kysely<DB>,
  workspaceId: string,
  patch: ReadonlyArray<readonly [string, MetricDirection | null]>,
  now: number,
): Promise<void> {
  for (const [name, direction] of patch) {
    if (direction === null) {
      await db.deleteFrom('metric_directions').where('workspace_id', '=', workspaceId).where('name', '=', name).execute();
    } else {
      await db
        .insertInto('metric_directions')
        .values({ workspace_id: workspaceId, name, direction, updated_at: now })
        .onConflict((oc) => oc.columns(['workspace_id', 'name']).doUpdateSet({ direction, updated_at: now }))
        .execute();
    }
  }
}
