import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import type { ExperimentRow } from '../experiments/experiments.repository.js';
import type { SeriesRow } from '../metrics/metrics.repository.js';
import { runNotMlflowDeleted, workspaceNotMlflowDeleted } from '../mlflow/mlflow.visibility.js';

export function findExperiments(db: Kysely<DB>, ids: readonly string[]): Promise<ExperimentRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('experiments')
    .selectAll()
    .where('id', 'in', ids)
    .where(runNotMlflowDeleted(sql.ref('experiments.id')))
    .execute();
}

/** Which of these workspaces the user belongs to (any role can read). */
export async function readableWorkspaces(db: Kysely<DB>, userId: string, workspaceIds: readonly string[]): Promise<Set<string>> {
  if (workspaceIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('workspace_members')
    .select('workspace_id')
    .where('user_id', '=', userId)
    .where('workspace_id', 'in', workspaceIds)
    .where(workspaceNotMlflowDeleted(sql.ref('workspace_members.workspace_id')))
    .execute();
  return new Set(rows.map((r) => r.workspace_id));
}

/** Non-empty series of these experiments, optionally only those named. */
export function seriesOf(
  db: Kysely<DB>,
  experimentIds: readonly string[],
  names: readonly string[] | null,
): Promise<SeriesRow[]> {
  if (experimentIds.length === 0 || names?.length === 0) return Promise.resolve([]);
  let q = db.selectFrom('metric_series').selectAll().where('experiment_id', 'in', experimentIds).where('point_count', '>', 0);
  if (names !== null) q = q.where('name', 'in', names);
  return q.orderBy('name').execute();
}

/** Per-block extremes (with their steps) of these series: enough to find each series' best point. */
export function blockExtremes(db: Kysely<DB>, seriesIds: readonly number[]) {
  if (seriesIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('metric_blocks')
    .select(['series_id', 'min_value', 'min_step', 'max_value', 'max_step'])
    .where('series_id', 'in', seriesIds)
    .execute();
}
