import { sql, type Kysely } from 'kysely';
import type { DialectHelpers } from '../../db/dialect.js';
import type { DB, ExperimentsTable } from '../../db/schema.js';
import type { Clause } from '../mlflow/mlflow.filter.js';
import { filterSql } from '../mlflow/mlflow.filter-sql.js';
import { runNotMlflowDeleted, workspaceNotMlflowDeleted } from '../mlflow/mlflow.visibility.js';
import type { Hyperparam } from './hyperparams.js';

export type ExperimentRow = ExperimentsTable;

export async function insertExperiment(
  db: Kysely<DB>,
  row: ExperimentRow,
  tags: readonly string[],
  hyperparams: readonly Hyperparam[],
): Promise<void> {
  await db.insertInto('experiments').values(row).execute();
  await replaceTags(db, row.id, tags);
  await replaceHyperparams(db, row.id, hyperparams);
}

/** The per-key copy of an experiment's hyperparameters, used for sorting and column lists. */
export async function replaceHyperparams(
  db: Kysely<DB>,
  experimentId: string,
  hyperparams: readonly Hyperparam[],
): Promise<void> {
  await db.deleteFrom('experiment_hyperparams').where('experiment_id', '=', experimentId).execute();
  if (hyperparams.length === 0) return;
  const rows = hyperparams.map(({ key, value }) => ({
    experiment_id: experimentId,
    key,
    num_value: typeof value === 'number' ? value : typeof value === 'boolean' ? Number(value) : null,
    text_value: typeof value === 'string' ? value : null,
  }));
  // Chunked so one statement stays under SQLite's bound-parameter limit.
  for (let i = 0; i < rows.length; i += 200)
    await db
      .insertInto('experiment_hyperparams')
      .values(rows.slice(i, i + 200))
      .execute();
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

/** The experiment unless it was deleted through MLflow's runs/delete (then Tora's routes answer 404). */
export function findLiveExperiment(db: Kysely<DB>, id: string) {
  return db
    .selectFrom('experiments')
    .selectAll()
    .where('id', '=', id)
    .where(runNotMlflowDeleted(sql.ref('experiments.id')))
    .executeTakeFirst();
}

/** Those of `ids` whose workspace has `userId` as a member (readable by them). */
export async function readableIds(db: Kysely<DB>, userId: string, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .selectFrom('experiments')
    .innerJoin('workspace_members', 'workspace_members.workspace_id', 'experiments.workspace_id')
    .select('experiments.id')
    .where('workspace_members.user_id', '=', userId)
    .where('experiments.id', 'in', ids)
    .where(runNotMlflowDeleted(sql.ref('experiments.id')))
    .where(workspaceNotMlflowDeleted(sql.ref('experiments.workspace_id')))
    .execute();
  return new Set(rows.map((r) => r.id));
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
  await db.deleteFrom('experiment_hyperparams').where('experiment_id', '=', id).execute();
  await db.updateTable('experiments').set({ reference_id: null }).where('reference_id', '=', id).execute();
  await db.deleteFrom('experiments').where('id', '=', id).execute();
}

export type ListSort =
  | { by: 'created' | 'updated' | 'name' | 'status' }
  | { by: 'metric'; metric: string; value: 'last' | 'min' | 'max' }
  | { by: 'hp'; key: string };

export interface ListFilter {
  workspaceIds: readonly string[];
  nameContains?: string;
  group?: string;
  tags: readonly string[];
  statuses: readonly string[];
  crashedBefore: number;
  /** Parsed `filter` (MLflow's grammar), shared with the MLflow runs/search route. */
  clauses?: readonly Clause[];
  /** Some run of these workspaces is deleted through MLflow: hide such runs (a per-row check, skipped when none is). */
  hideMlflowDeleted: boolean;
}

/** Whether any experiment of these workspaces is deleted through MLflow (mlflow_runs_deleted_idx keeps this cheap). */
export async function anyMlflowDeleted(db: Kysely<DB>, workspaceIds: readonly string[]): Promise<boolean> {
  if (workspaceIds.length === 0) return false;
  // Driven by the (small) partial index of deleted runs, each looked up by id: never a scan of the workspaces' experiments.
  const row = await db
    .selectFrom('mlflow_runs as mr')
    .select('mr.experiment_id')
    .where('mr.deleted_at', 'is not', null)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('experiments as e')
          .select('e.id')
          .whereRef('e.id', '=', 'mr.experiment_id')
          .where('e.workspace_id', 'in', workspaceIds),
      ),
    )
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** Experiments in the given workspaces matching the filter (access was checked by the service). */
function filtered(db: Kysely<DB>, dialect: DialectHelpers, f: ListFilter) {
  let q = db.selectFrom('experiments as e').where('e.workspace_id', 'in', f.workspaceIds);
  if (f.hideMlflowDeleted) q = q.where(runNotMlflowDeleted(sql.ref('e.id')));
  if (f.nameContains) {
    const needle = f.nameContains;
    q = q.where((eb) => dialect.containsIgnoreCase(eb, eb.ref('e.name'), needle));
  }
  if (f.group !== undefined) q = q.where('e.run_group', '=', f.group);
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
  if (f.clauses && f.clauses.length > 0) q = q.where(filterSql(dialect, f.clauses, f.crashedBefore));
  return q;
}

export async function countExperiments(db: Kysely<DB>, dialect: DialectHelpers, f: ListFilter): Promise<number> {
  if (f.workspaceIds.length === 0) return 0;
  const row = await filtered(db, dialect, f)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** One page of experiments; rows without the sorted metric or hyperparameter come last either way. */
export async function listExperiments(
  db: Kysely<DB>,
  dialect: DialectHelpers,
  f: ListFilter & { sort: ListSort; order: 'asc' | 'desc'; offset: number; limit: number },
): Promise<ExperimentRow[]> {
  if (f.workspaceIds.length === 0) return [];
  const dir = f.order;
  let q = filtered(db, dialect, f).selectAll('e');
  const sort = f.sort;
  if (sort.by === 'metric') {
    const column = ({ last: 'last_value', min: 'min_value', max: 'max_value' } as const)[sort.value];
    q = q
      .leftJoin('metric_series as s', (join) => join.onRef('s.experiment_id', '=', 'e.id').on('s.name', '=', sort.metric))
      .orderBy(sql`case when ${sql.ref(`s.${column}`)} is null then 1 else 0 end`)
      .orderBy(`s.${column}`, dir);
  } else if (sort.by === 'hp') {
    q = q
      .leftJoin('experiment_hyperparams as h', (join) => join.onRef('h.experiment_id', '=', 'e.id').on('h.key', '=', sort.key))
      // Numbers first (by value), then strings (by text), then experiments without the key.
      .orderBy(sql`case when h.num_value is not null then 0 when h.text_value is not null then 1 else 2 end`)
      .orderBy('h.num_value', dir)
      .orderBy('h.text_value', dir);
  } else {
    const column = { created: 'e.created_at', updated: 'e.updated_at', name: 'e.name', status: 'e.status' } as const;
    q = q.orderBy(column[sort.by], dir);
  }
  return q.orderBy('e.id', dir).limit(f.limit).offset(f.offset).execute();
}

/** Every hyperparameter key and metric name used by experiments of a workspace, for column pickers. */
export async function workspaceColumns(
  db: Kysely<DB>,
  workspaceId: string,
): Promise<{ hyperparams: string[]; metrics: string[] }> {
  const experiments = db
    .selectFrom('experiments')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where(runNotMlflowDeleted(sql.ref('experiments.id')));
  const keys = await db
    .selectFrom('experiment_hyperparams')
    .select('key')
    .distinct()
    .where('experiment_id', 'in', experiments)
    .orderBy('key')
    .execute();
  const names = await db
    .selectFrom('metric_series')
    .select('name')
    .distinct()
    .where('experiment_id', 'in', experiments)
    .where('point_count', '>', 0)
    .orderBy('name')
    .execute();
  return { hyperparams: keys.map((k) => k.key), metrics: names.map((n) => n.name) };
}

export function seriesSummaries(db: Kysely<DB>, experimentIds: readonly string[]) {
  if (experimentIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('metric_series')
    .select(['experiment_id', 'name', 'last_value', 'min_value', 'max_value', 'nan_count', 'point_count'])
    .where('experiment_id', 'in', experimentIds)
    .orderBy('name')
    .execute();
}

export async function memberWorkspaceIds(db: Kysely<DB>, userId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('workspace_members')
    .select('workspace_id')
    .where('user_id', '=', userId)
    .where(workspaceNotMlflowDeleted(sql.ref('workspace_members.workspace_id')))
    .execute();
  return rows.map((r) => r.workspace_id);
}
