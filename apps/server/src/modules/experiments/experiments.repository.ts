import { sql, type Kysely } from 'kysely';
import type { DialectHelpers } from '../../db/dialect.js';
import type { DB, ExperimentsTable } from '../../db/schema.js';

export type ExperimentRow = ExperimentsTable;

export async function insertExperiment(db: Kysely<DB>, row: ExperimentRow, tags: readonly string[]): Promise<void> {
  await db.insertInto('experiments').values(row).execute();
  await replaceTags(db, row.id, tags);
}

export async function replaceTags(db: Kysely<DB>, experimentId: string, tags: readonly string[]): Promise<void> {
  await db.deleteFrom('experiment_tags').where('experiment_id', '=', experimentId).execute();
  if (tags.length > 0) {
    await db
      .insertInto('experiment_tags')
      .values(tags.map((tag) => ({ experiment_id: experimentId, tag })))
      .execute();
  }
}

export function findExperiment(db: Kysely<DB>, id: string) {
  return db.selectFrom('experiments').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function updateExperiment(db: Kysely<DB>, id: string, patch: Partial<ExperimentRow>): Promise<void> {
  await db.updateTable('experiments').set(patch).where('id', '=', id).execute();
}

export async function deleteExperiment(db: Kysely<DB>, id: string): Promise<void> {
  const series = db.selectFrom('metric_series').select('id').where('experiment_id', '=', id);
  await db.deleteFrom('metric_blocks').where('series_id', 'in', series).execute();
  await db.deleteFrom('metric_series').where('experiment_id', '=', id).execute();
  await db.deleteFrom('metric_batches').where('experiment_id', '=', id).execute();
  await db.deleteFrom('experiment_tags').where('experiment_id', '=', id).execute();
  await db.updateTable('experiments').set({ reference_id: null }).where('reference_id', '=', id).execute();
  await db.deleteFrom('experiments').where('id', '=', id).execute();
}

export interface ListFilter {
  workspaceIds: readonly string[];
  nameContains?: string;
  tags: readonly string[];
  statuses: readonly string[];
  crashedBefore: number;
  sort: { by: 'created' | 'updated' | 'name' } | { by: 'metric'; metric: string };
  order: 'asc' | 'desc';
  offset: number;
  limit: number;
}

/** One page of experiments in the given workspaces (the caller's access was checked by the service). */
export async function listExperiments(db: Kysely<DB>, dialect: DialectHelpers, f: ListFilter): Promise<ExperimentRow[]> {
  if (f.workspaceIds.length === 0) return [];
  let q = db.selectFrom('experiments as e').selectAll('e').where('e.workspace_id', 'in', f.workspaceIds);
  if (f.nameContains) {
    const needle = f.nameContains;
    q = q.where((eb) => dialect.containsIgnoreCase(eb, eb.ref('e.name'), needle));
  }
  for (const tag of f.tags) {
    q = q.where((eb) =>
      eb.exists(
        eb.selectFrom('experiment_tags as t').select('t.tag').whereRef('t.experiment_id', '=', 'e.id').where('t.tag', '=', tag),
      ),
    );
  }
  if (f.statuses.length > 0) {
    // "crashed" is also what a running experiment becomes when it has gone silent.
    q = q.where((eb) => {
      const ors = [];
      const stored = f.statuses.filter((s) => s !== 'running');
      if (stored.length > 0) ors.push(eb('e.status', 'in', stored));
      if (f.statuses.includes('running')) {
        ors.push(eb.and([eb('e.status', '=', 'running'), eb('e.last_activity_at', '>=', f.crashedBefore)]));
      }
      if (f.statuses.includes('crashed')) {
        ors.push(eb.and([eb('e.status', '=', 'running'), eb('e.last_activity_at', '<', f.crashedBefore)]));
      }
      return eb.or(ors);
    });
  }
  const dir = f.order;
  if (f.sort.by === 'metric') {
    const metric = f.sort.metric;
    q = q
      .leftJoin('metric_series as s', (join) => join.onRef('s.experiment_id', '=', 'e.id').on('s.name', '=', metric))
      // Experiments without the metric (or whose last value is NaN) sort last either way.
      .orderBy(sql`case when s.last_value is null then 1 else 0 end`)
      .orderBy('s.last_value', dir);
  } else {
    const column = f.sort.by === 'created' ? 'e.created_at' : f.sort.by === 'updated' ? 'e.updated_at' : 'e.name';
    q = q.orderBy(column, dir);
  }
  return q.orderBy('e.id', dir).limit(f.limit).offset(f.offset).execute();
}

export function seriesSummaries(db: Kysely<DB>, experimentIds: readonly string[]) {
  if (experimentIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('metric_series')
    .select(['experiment_id', 'name', 'last_value', 'nan_count', 'point_count'])
    .where('experiment_id', 'in', experimentIds)
    .orderBy('name')
    .execute();
}

export async function memberWorkspaceIds(db: Kysely<DB>, userId: string): Promise<string[]> {
  const rows = await db.selectFrom('workspace_members').select('workspace_id').where('user_id', '=', userId).execute();
  return rows.map((r) => r.workspace_id);
}
