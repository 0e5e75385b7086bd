import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import { runNotMlflowDeleted } from '../mlflow/mlflow.visibility.js';

/** Up to 500 most recent runs of a workspace that logged `metric`, with its extremes. */
export function workspaceRuns(db: Kysely<DB>, workspaceId: string, metric: string) {
  return db
    .selectFrom('experiments as e')
    .innerJoin('metric_series as s', (j) => j.onRef('s.experiment_id', '=', 'e.id').on('s.name', '=', metric))
    .select(['e.id', 'e.hyperparams', 's.min_value', 's.max_value'])
    .where('e.workspace_id', '=', workspaceId)
    .where(runNotMlflowDeleted(sql.ref('e.id')))
    .where('s.point_count', '>', 0)
    .orderBy('e.last_activity_at', 'desc')
    .limit(500)
    .execute();
}

/** What changes whenever new data arrives: the experiments' activity, their series and the workspace's runs. */
export async function freshness(db: Kysely<DB>, workspaceId: string, experimentIds: readonly string[]): Promise<string> {
  const series = await db
    .selectFrom('metric_series')
    .select((eb) => [eb.fn.max('updated_at').as('updated'), eb.fn.countAll().as('n')])
    .where('experiment_id', 'in', experimentIds)
    .executeTakeFirst();
  const runs = await db
    .selectFrom('experiments')
    .select((eb) => [eb.fn.max('last_activity_at').as('active'), eb.fn.max('updated_at').as('updated'), eb.fn.countAll().as('n')])
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirst();
  const directions = await db
    .selectFrom('metric_directions')
    .select((eb) => [eb.fn.max('updated_at').as('updated'), eb.fn.countAll().as('n')])
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirst();
  return JSON.stringify([series, runs, directions], (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
}
