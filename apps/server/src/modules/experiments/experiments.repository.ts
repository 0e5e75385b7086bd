import { sql, type Expression, type Kysely, type RawBuilder } from 'kysely';
import type { DialectHelpers } from '../../db/dialect.js';
import type { DB, ExperimentsTable } from '../../db/schema.js';
import type { ExperimentStatus } from '../../lib/schemas.js';
import { deleteSeriesOf, metricNamesOf, type ExperimentIds, type RunKeys } from '../metrics/metrics.repository.js';
import { deleteFilesOf } from '../files/files.repository.js';
import type { Clause, OrderKey, TrashView } from './filter.js';
import { filterSql, orderValueSql } from './filter.repository.js';
import { experimentNotTrashed, experimentTrashed } from './trash.repository.js';
import type { Experiment, ExperimentPatch } from './experiment.js';
import type { Hyperparam } from './hyperparams.js';

/**
 * Every query on `experiments` and its own tables (tags, hyperparameters). Other modules call these;
 * access is checked by the services before any of them run. Services see `Experiment`: rows are
 * converted here (`fromRow`/`toRow`), and every write keeps the per-key copies of tags and
 * hyperparameters (`experiment_tags`, `experiment_hyperparams`) in step with the JSON columns.
 */
type ExperimentRow = ExperimentsTable;

/** The row's JSON columns decoded. */
export function fromRow(row: ExperimentRow): Experiment {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    name: row.name,
    description: row.description,
    hyperparams: JSON.parse(row.hyperparams) as Hyperparam[],
    tags: JSON.parse(row.tags) as string[],
    visibility: row.visibility,
    status: row.status,
    referenceId: row.reference_id,
    group: row.run_group,
    runInfo: JSON.parse(row.run_info) as Record<string, string>,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastActivityAt: row.last_activity_at,
  };
}

export function toRow(e: Experiment): ExperimentRow {
  return {
    id: e.id,
    workspace_id: e.workspaceId,
    name: e.name,
    description: e.description,
    hyperparams: JSON.stringify(e.hyperparams),
    tags: JSON.stringify(e.tags),
    visibility: e.visibility,
    status: e.status,
    reference_id: e.referenceId,
    run_group: e.group,
    run_info: JSON.stringify(e.runInfo),
    created_by: e.createdBy,
    created_at: e.createdAt,
    updated_at: e.updatedAt,
    last_activity_at: e.lastActivityAt,
  };
}

function toRowPatch(p: ExperimentPatch): Partial<ExperimentRow> {
  const row: Partial<ExperimentRow> = {};
  if (p.name !== undefined) row.name = p.name;
  if (p.description !== undefined) row.description = p.description;
  if (p.hyperparams !== undefined) row.hyperparams = JSON.stringify(p.hyperparams);
  if (p.tags !== undefined) row.tags = JSON.stringify(p.tags);
  if (p.status !== undefined) row.status = p.status;
  if (p.referenceId !== undefined) row.reference_id = p.referenceId;
  if (p.group !== undefined) row.run_group = p.group;
  if (p.runInfo !== undefined) row.run_info = JSON.stringify(p.runInfo);
  if (p.updatedAt !== undefined) row.updated_at = p.updatedAt;
  if (p.lastActivityAt !== undefined) row.last_activity_at = p.lastActivityAt;
  return row;
}

/** A hyperparameter as stored per key: numbers and booleans (0/1) in `num_value`, strings in `text_value`. */
interface HyperparamRow {
  key: string;
  num_value: number | null;
  text_value: string | null;
}

/**
 * The per-key form of a hyperparameter. `numericText`: MLflow's params are strings, and the numeric
 * ones also keep their number, so filters and sorts compare them numerically.
 */
function hyperparamRow({ key, value }: Hyperparam, numericText: boolean): HyperparamRow {
  if (typeof value === 'string') {
    const n = numericText && value.trim() !== '' ? Number(value) : NaN;
    return { key, text_value: value, num_value: Number.isFinite(n) ? n : null };
  }
  return {
    key,
    num_value: typeof value === 'number' ? value : typeof value === 'boolean' ? Number(value) : null,
    text_value: null,
  };
}

/** Stores a new experiment with its per-key tags and hyperparameters. */
export async function insertExperiment(db: Kysely<DB>, e: Experiment): Promise<void> {
  await db.insertInto('experiments').values(toRow(e)).execute();
  await replaceTags(db, e.id, e.tags);
  await replaceHyperparams(db, e.id, e.hyperparams);
}

/** The per-key copy of an experiment's hyperparameters, used for sorting and column lists. */
async function replaceHyperparams(db: Kysely<DB>, experimentId: string, hyperparams: readonly Hyperparam[]): Promise<void> {
  await db.deleteFrom('experiment_hyperparams').where('experiment_id', '=', experimentId).execute();
  await insertHyperparams(
    db,
    experimentId,
    hyperparams.map((h) => hyperparamRow(h, false)),
  );
}

/**
 * Adds hyperparameters whose keys the experiment does not have yet: to its JSON list and the
 * per-key copy (see `hyperparamRow` for `numericText`).
 */
export async function addHyperparams(
  db: Kysely<DB>,
  experiment: Pick<Experiment, 'id' | 'hyperparams'>,
  added: readonly Hyperparam[],
  opts: { numericText: boolean },
): Promise<void> {
  await db
    .updateTable('experiments')
    .set({ hyperparams: JSON.stringify([...experiment.hyperparams, ...added]) })
    .where('id', '=', experiment.id)
    .execute();
  await insertHyperparams(
    db,
    experiment.id,
    added.map((h) => hyperparamRow(h, opts.numericText)),
  );
}

async function insertHyperparams(db: Kysely<DB>, experimentId: string, rows: readonly HyperparamRow[]): Promise<void> {
  // Chunked so one statement stays under SQLite's bound-parameter limit.
  for (let i = 0; i < rows.length; i += 200) {
    await db
      .insertInto('experiment_hyperparams')
      .values(rows.slice(i, i + 200).map((r) => ({ experiment_id: experimentId, ...r })))
      .execute();
  }
}

async function replaceTags(db: Kysely<DB>, experimentId: string, tags: readonly string[]): Promise<void> {
  await db.deleteFrom('experiment_tags').where('experiment_id', '=', experimentId).execute();
  if (tags.length > 0) {
    await db
      .insertInto('experiment_tags')
      .values(tags.map((tag) => ({ experiment_id: experimentId, tag })))
      .execute();
  }
}

export async function findExperiment(db: Kysely<DB>, id: string): Promise<Experiment | undefined> {
  const row = await db.selectFrom('experiments').selectAll().where('id', '=', id).executeTakeFirst();
  return row && fromRow(row);
}

/** The experiment unless it is trashed (then Tora's routes answer 404). */
export async function findLiveExperiment(db: Kysely<DB>, id: string): Promise<Experiment | undefined> {
  const row = await db
    .selectFrom('experiments')
    .selectAll()
    .where('id', '=', id)
    .where(experimentNotTrashed(sql.ref('experiments.id')))
    .executeTakeFirst();
  return row && fromRow(row);
}

/** Those of `ids` not trashed (Tora's views treat those as gone). */
export async function findLiveExperiments(db: Kysely<DB>, ids: readonly string[]): Promise<Experiment[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('experiments')
    .selectAll()
    .where('id', 'in', ids)
    .where(experimentNotTrashed(sql.ref('experiments.id')))
    .execute();
  return rows.map(fromRow);
}

/** The experiment row, locked for the rest of the transaction where the database has row locks. */
export async function lockExperiment(db: Kysely<DB>, dialect: DialectHelpers, id: string): Promise<Experiment | undefined> {
  const q = db.selectFrom('experiments').selectAll().where('id', '=', id);
  const row = await (dialect.rowLocks ? q.forUpdate() : q).executeTakeFirst();
  return row && fromRow(row);
}

/** Experiments of a workspace, or named by id, oldest first (`tora export`). */
export async function selectExperiments(
  db: Kysely<DB>,
  filter: { workspaceId?: string; experimentIds?: readonly string[] },
): Promise<Experiment[]> {
  let q = db.selectFrom('experiments').selectAll().orderBy('created_at').orderBy('id');
  if (filter.workspaceId !== undefined) q = q.where('workspace_id', '=', filter.workspaceId);
  if (filter.experimentIds?.length) q = q.where('id', 'in', [...filter.experimentIds]);
  return (await q.execute()).map(fromRow);
}

/** Changes the experiment; new tags or hyperparameters replace their per-key copies too. */
export async function updateExperiment(db: Kysely<DB>, id: string, patch: ExperimentPatch): Promise<void> {
  const row = toRowPatch(patch);
  if (Object.keys(row).length > 0) await db.updateTable('experiments').set(row).where('id', '=', id).execute();
  if (patch.tags !== undefined) await replaceTags(db, id, patch.tags);
  if (patch.hyperparams !== undefined) await replaceHyperparams(db, id, patch.hyperparams);
}

/** New data arrived: the experiment is active (not crashed) and changed. */
export async function touchExperiment(db: Kysely<DB>, experimentId: string, now: number): Promise<void> {
  await db.updateTable('experiments').set({ last_activity_at: now, updated_at: now }).where('id', '=', experimentId).execute();
}

/** One experiment, or every experiment of a workspace. */
export type ExperimentSelector = { id: string } | { workspaceId: string };

/** The ids of the selected experiments, as a subquery. */
export function experimentIdsOf(db: Kysely<DB>, which: ExperimentSelector) {
  const q = db.selectFrom('experiments').select('id');
  return 'id' in which ? q.where('id', '=', which.id) : q.where('workspace_id', '=', which.workspaceId);
}

function idsOfWorkspaces(db: Kysely<DB>, workspaceIds: readonly string[]) {
  return db.selectFrom('experiments').select('id').where('workspace_id', 'in', workspaceIds);
}

/**
 * The one cascade delete of experiments (one, or all of a workspace). Explicit child deletes: SQLite
 * and PostgreSQL cascade alike, but blocks are the bulk and go first; references to the deleted
 * experiments are cleared.
 */
export async function deleteExperiments(db: Kysely<DB>, which: ExperimentSelector): Promise<void> {
  const ids = experimentIdsOf(db, which);
  await deleteSeriesOf(db, ids);
  await deleteFilesOf(db, ids);
  await db.deleteFrom('experiment_tags').where('experiment_id', 'in', ids).execute();
  await db.deleteFrom('experiment_hyperparams').where('experiment_id', 'in', ids).execute();
  await db.updateTable('experiments').set({ reference_id: null }).where('reference_id', 'in', ids).execute();
  const rows = db.deleteFrom('experiments');
  await ('id' in which ? rows.where('id', '=', which.id) : rows.where('workspace_id', '=', which.workspaceId)).execute();
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
  statuses: readonly ExperimentStatus[];
  crashedBefore: number;
  /** Parsed `filter` (filter.ts), the grammar MLflow's runs/search also uses. */
  clauses?: readonly Clause[];
  /** Some experiment of these workspaces is trashed: hide such (a per-row check, skipped when none is). */
  hideTrashed: boolean;
}

/** Experiments in the given workspaces matching the filter (access was checked by the service). */
function filtered(db: Kysely<DB>, dialect: DialectHelpers, f: ListFilter) {
  let q = db.selectFrom('experiments as e').where('e.workspace_id', 'in', f.workspaceIds);
  if (f.hideTrashed) q = q.where(experimentNotTrashed(sql.ref('e.id')));
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
  if (f.clauses && f.clauses.length > 0) {
    q = q.where(filterSql(dialect, f.clauses, f.crashedBefore, idsOfWorkspaces(db, f.workspaceIds)));
  }
  return q;
}

export async function countExperiments(db: Kysely<DB>, dialect: DialectHelpers, f: ListFilter): Promise<number> {
  if (f.workspaceIds.length === 0) return 0;
  const row = await filtered(db, dialect, f)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The ids of the experiments matching the filter, as a subquery for other repositories. */
export function filteredIds(db: Kysely<DB>, dialect: DialectHelpers, f: ListFilter): ExperimentIds {
  return filtered(db, dialect, f).select('e.id as id') as unknown as ExperimentIds;
}

/** What the dashboard groups experiments by: their `group`, a hyperparameter or an MLflow tag. */
export type GroupBy = { by: 'group' } | { by: 'param'; key: string } | { by: 'tag'; key: string };

/** The matching experiments as (workspace_id, id): a subquery for the groups repository. */
export function filteredRuns(db: Kysely<DB>, dialect: DialectHelpers, f: ListFilter): RunKeys {
  return filtered(db, dialect, f).select(['e.workspace_id as workspace_id', 'e.id as id']) as unknown as RunKeys;
}

/**
 * A group value as a key that is never null, so that groups can be joined back on it by plain
 * equality (a hash join on PostgreSQL, where `IS NOT DISTINCT FROM` only nests loops): `kind` is
 * 2 × (no number) + (no text), `num` and `text` the value or 0 and ''. MLflow's numeric params
 * have both a number and a text.
 */
export interface GroupKeyRow {
  kind: number;
  num: number;
  text: string;
}

/** The value a key stands for: `num` for numeric hyperparameters, `text` otherwise, null for none. */
export function groupValueOf(row: GroupKeyRow): { num: number | null; text: string | null } {
  return { num: row.kind & 2 ? null : Number(row.num), text: row.kind & 1 ? null : row.text };
}

/**
 * `runs` (a subquery with an `id` column) with each run's value of `g` as `kind`, `num` and `text`
 * (GroupKeyRow), and the subquery's own columns after them. Runs without one have kind 3.
 */
export function withGroupKey(runs: Expression<unknown>, g: GroupBy): RawBuilder<GroupKeyRow> {
  const key = (num: RawBuilder<unknown>, text: RawBuilder<unknown>) =>
    sql`case when ${num} is null then 2 else 0 end + case when ${text} is null then 1 else 0 end as kind,
      coalesce(${num}, 0) as num, coalesce(${text}, '') as text`;
  if (g.by === 'group') {
    return sql`select ${key(sql`null`, sql`e.run_group`)}, r.* from ${runs} r join experiments e on e.id = r.id`;
  }
  if (g.by === 'tag') {
    return sql`select ${key(sql`null`, sql`t.value`)}, r.* from ${runs} r
      left join mlflow_run_tags t on t.experiment_id = r.id and t.key = ${g.key}`;
  }
  return sql`select ${key(sql`h.num_value`, sql`h.text_value`)}, r.* from ${runs} r
    left join experiment_hyperparams h on h.experiment_id = r.id and h.key = ${g.key}`;
}

/**
 * One page of experiments; rows without the sorted metric or hyperparameter come last either way.
 * The sort carries ids only, then the page's rows are read: sorting whole rows dragged their JSON
 * (up to 1,000 hyperparameters each) through the sorter and froze SQLite for minutes.
 */
export async function listExperiments(
  db: Kysely<DB>,
  dialect: DialectHelpers,
  f: ListFilter & { sort: ListSort; order: 'asc' | 'desc'; offset: number; limit: number },
): Promise<Experiment[]> {
  if (f.workspaceIds.length === 0) return [];
  const dir = f.order;
  let q = filtered(db, dialect, f).select('e.id');
  const sort = f.sort;
  if (sort.by === 'metric') {
    const column = ({ last: 'last_value', min: 'min_value', max: 'max_value' } as const)[sort.value];
    q = q
      // The figure from metric_series_figures_idx (migration 023), not the table.
      .leftJoin('metric_series as s', (join) =>
        join.onRef('s.experiment_id', '=', 'e.id').on((eb) => dialect.equalsViaCoveringIndex(eb.ref('s.name'), sort.metric)),
      )
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
  const page = await q.orderBy('e.id', dir).limit(f.limit).offset(f.offset).execute();
  return findExperimentsInOrder(
    db,
    page.map((r) => r.id),
  );
}

/** The rows of these ids, in the ids' order (one missing since is left out). Callers pass at most ~1,000. */
export async function findExperimentsInOrder(db: Kysely<DB>, ids: readonly string[]): Promise<Experiment[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('experiments').selectAll().where('id', 'in', ids).execute();
  const byId = new Map(rows.map((r) => [r.id, fromRow(r)]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

/** Every hyperparameter key and metric name used by experiments of a workspace, for column pickers. */
export async function workspaceColumns(
  db: Kysely<DB>,
  workspaceId: string,
): Promise<{ hyperparams: string[]; metrics: string[] }> {
  const experiments = experimentIdsOf(db, { workspaceId }).where(experimentNotTrashed(sql.ref('experiments.id')));
  const keys = await db
    .selectFrom('experiment_hyperparams')
    .select('key')
    .distinct()
    .where('experiment_id', 'in', experiments)
    .orderBy('key')
    .execute();
  return { hyperparams: keys.map((k) => k.key), metrics: await metricNamesOf(db, experiments) };
}

/** Up to 500 most recent runs of a workspace that logged `metric`, with its extremes (the analyzer's peers). */
export async function runsWithMetric(db: Kysely<DB>, workspaceId: string, metric: string) {
  const rows = await db
    .selectFrom('experiments as e')
    .innerJoin('metric_series as s', (j) => j.onRef('s.experiment_id', '=', 'e.id').on('s.name', '=', metric))
    .select(['e.id', 'e.name', 'e.run_group', 'e.hyperparams', 's.min_value', 's.max_value'])
    .where('e.workspace_id', '=', workspaceId)
    .where(experimentNotTrashed(sql.ref('e.id')))
    .where('s.point_count', '>', 0)
    .orderBy('e.last_activity_at', 'desc')
    .limit(500)
    .execute();
  return rows.map(({ hyperparams, run_group, ...r }) => ({
    ...r,
    group: run_group,
    hyperparams: JSON.parse(hyperparams) as Hyperparam[],
  }));
}

/** Changes whenever a run of the workspace is created, changed or active. */
export function workspaceActivity(db: Kysely<DB>, workspaceId: string) {
  return db
    .selectFrom('experiments')
    .select((eb) => [eb.fn.max('last_activity_at').as('active'), eb.fn.max('updated_at').as('updated'), eb.fn.countAll().as('n')])
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirst();
}

export interface RunQuery {
  workspaceIds: readonly string[];
  clauses: readonly Clause[];
  order: readonly OrderKey[];
  view: TrashView;
  crashedBefore: number;
  offset: number;
  limit: number;
}

/**
 * The ids of one page of MLflow runs; rows lacking an order key's value come last either way, ties
 * by start time, then id. Ids only: the caller reads the rows a chunk at a time.
 */
export async function searchRunIds(db: Kysely<DB>, dialect: DialectHelpers, q: RunQuery): Promise<string[]> {
  if (q.workspaceIds.length === 0) return [];
  let query = db
    .selectFrom('experiments as e')
    .select('e.id')
    .where('e.workspace_id', 'in', q.workspaceIds)
    .where(filterSql(dialect, q.clauses, q.crashedBefore, idsOfWorkspaces(db, q.workspaceIds)));
  if (q.view === 'live') query = query.where(experimentNotTrashed(sql.ref('e.id')));
  if (q.view === 'trashed') query = query.where(experimentTrashed(sql.ref('e.id')));
  for (const key of q.order) {
    // NULLS LAST rather than a `case … is null` key before it: each key's subquery runs once per row, not twice.
    const value = orderValueSql(dialect, key, q.crashedBefore);
    query = query.orderBy(value, (ob) => (key.ascending ? ob.asc() : ob.desc()).nullsLast());
  }
  const rows = await query.orderBy('e.created_at', 'desc').orderBy('e.id').limit(q.limit).offset(q.offset).execute();
  return rows.map((r) => r.id);
}
