import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import type { DialectHelpers } from '../../db/dialect.js';
import type { DB, MetricBlocksTable, MetricSeriesTable } from '../../db/schema.js';

/** Every query on `metric_series`, `metric_blocks` and `metric_batches`. */

export type SeriesRow = Omit<MetricSeriesTable, 'id'> & { id: number };
export type BlockRow = MetricBlocksTable;
export type BlockSummaryRow = Omit<MetricBlocksTable, 'data' | 'metadata'>;

/** Claims a batch id; false when this experiment already committed a batch with it. */
export async function claimBatch(
  db: Kysely<DB>,
  row: { experiment_id: string; batch_id: string; point_count: number; fingerprint: string; created_at: number },
): Promise<boolean> {
  const result = await db
    .insertInto('metric_batches')
    .values(row)
    .onConflict((oc) => oc.columns(['experiment_id', 'batch_id']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

export function findBatch(db: Kysely<DB>, experimentId: string, batchId: string) {
  return db
    .selectFrom('metric_batches')
    .select(['point_count', 'fingerprint'])
    .where('experiment_id', '=', experimentId)
    .where('batch_id', '=', batchId)
    .executeTakeFirst();
}

/**
 * Series rows for these names, created empty when missing, locked for this transaction on
 * PostgreSQL. Callers pass the names sorted: rows are created in that order and locked in id
 * order, the same for every writer, so two batches over overlapping series cannot deadlock.
 */
export async function lockSeries(
  db: Kysely<DB>,
  dialect: DialectHelpers,
  experimentId: string,
  names: readonly string[],
  now: number,
): Promise<Map<string, SeriesRow>> {
  await db
    .insertInto('metric_series')
    .values(
      names.map((name) => ({
        experiment_id: experimentId,
        name,
        point_count: 0,
        block_count: 0,
        first_step: 0,
        last_step: -1,
        last_value: null,
        min_value: null,
        max_value: null,
        nan_count: 0,
        updated_at: now,
      })),
    )
    .onConflict((oc) => oc.columns(['experiment_id', 'name']).doNothing())
    .execute();
  let q = db.selectFrom('metric_series').selectAll().where('experiment_id', '=', experimentId).where('name', 'in', names);
  if (dialect.rowLocks) q = q.orderBy('id').forUpdate();
  const rows = await q.execute();
  return new Map(rows.map((r) => [r.name, r as SeriesRow]));
}

export async function updateSeries(db: Kysely<DB>, row: SeriesRow): Promise<void> {
  const { id, ...rest } = row;
  await db.updateTable('metric_series').set(rest).where('id', '=', id).execute();
}

export async function insertBlocks(db: Kysely<DB>, blocks: BlockRow[]): Promise<void> {
  // Chunked so one statement stays under SQLite's bound-parameter limit.
  for (let i = 0; i < blocks.length; i += 100) {
    await db
      .insertInto('metric_blocks')
      .values(blocks.slice(i, i + 100))
      .execute();
  }
}

export async function replaceBlock(db: Kysely<DB>, block: BlockRow): Promise<void> {
  const { series_id, seq, ...rest } = block;
  await db.updateTable('metric_blocks').set(rest).where('series_id', '=', series_id).where('seq', '=', seq).execute();
}

export function findBlock(db: Kysely<DB>, seriesId: number, seq: number) {
  return db.selectFrom('metric_blocks').selectAll().where('series_id', '=', seriesId).where('seq', '=', seq).executeTakeFirst();
}

export function listSeries(db: Kysely<DB>, experimentId: string) {
  return db
    .selectFrom('metric_series')
    .selectAll()
    .where('experiment_id', '=', experimentId)
    .where('point_count', '>', 0)
    .orderBy('name')
    .execute() as Promise<SeriesRow[]>;
}

export function findSeries(db: Kysely<DB>, experimentId: string, name: string) {
  return db
    .selectFrom('metric_series')
    .selectAll()
    .where('experiment_id', '=', experimentId)
    .where('name', '=', name)
    .where('point_count', '>', 0)
    .executeTakeFirst() as Promise<SeriesRow | undefined>;
}

/** Summaries (no point data) of the blocks of a series overlapping a step range. */
export function blockSummaries(db: Kysely<DB>, seriesId: number, from: number, to: number): Promise<BlockSummaryRow[]> {
  return db
    .selectFrom('metric_blocks')
    .select([
      'series_id',
      'seq',
      'step_min',
      'step_max',
      'point_count',
      'first_step',
      'first_value',
      'last_step',
      'last_value',
      'min_value',
      'min_step',
      'max_value',
      'max_step',
      'nan_count',
      'windows',
      'window_sums',
    ])
    .where('series_id', '=', seriesId)
    .where('step_max', '>=', from)
    .where('step_min', '<=', to)
    .orderBy('seq')
    .execute();
}

export function blockData(db: Kysely<DB>, seriesId: number, seqs: readonly number[]) {
  return db
    .selectFrom('metric_blocks')
    .select(['seq', 'data', 'metadata'])
    .where('series_id', '=', seriesId)
    .where('seq', 'in', seqs)
    .orderBy('seq')
    .execute();
}

/** Blocks of a series in append order, from `fromSeq` on, with their data. */
export function blocksFrom(db: Kysely<DB>, seriesId: number, fromSeq: number, limit: number) {
  return db
    .selectFrom('metric_blocks')
    .select(['seq', 'data', 'metadata', 'step_min', 'step_max'])
    .where('series_id', '=', seriesId)
    .where('seq', '>=', fromSeq)
    .orderBy('seq')
    .limit(limit)
    .execute();
}

/** Experiment ids as a subquery (experiments.repository's `experimentIdsOf`). */
export type ExperimentIds = SelectQueryBuilder<DB, 'experiments', { id: string }>;

/** The metric data of these experiments: blocks (the bulk) first, then series and batch ids. */
export async function deleteSeriesOf(db: Kysely<DB>, experimentIds: ExperimentIds): Promise<void> {
  const series = db.selectFrom('metric_series').select('id').where('experiment_id', 'in', experimentIds);
  await db.deleteFrom('metric_blocks').where('series_id', 'in', series).execute();
  await db.deleteFrom('metric_series').where('experiment_id', 'in', experimentIds).execute();
  await db.deleteFrom('metric_batches').where('experiment_id', 'in', experimentIds).execute();
}

/** The names of the non-empty series of these experiments, sorted. */
export async function metricNamesOf(db: Kysely<DB>, experimentIds: ExperimentIds): Promise<string[]> {
  const names = await db
    .selectFrom('metric_series')
    .select('name')
    .distinct()
    .where('experiment_id', 'in', experimentIds)
    .where('point_count', '>', 0)
    .orderBy('name')
    .execute();
  return names.map((n) => n.name);
}

/** Which figure of a run's series a column summarises. */
export type Figure = 'last' | 'min' | 'max';

const FIGURE_COLUMN = { last: 'last_value', min: 'min_value', max: 'max_value' } as const;

/** Matching experiments as (workspace_id, id), a subquery (experiments.repository's `filteredRuns`). */
export type RunKeys = SelectQueryBuilder<DB, 'experiments', { workspace_id: string; id: string }>;

/**
 * A subquery of one row per run of `runs`: `id` and, per column `c<i>`, the figure of its series
 * of that name (NULL without one, for NaN and for an empty series). Grouped by (workspace_id, id),
 * the order `experiments_workspace_id_idx` (migration 025) gives the runs: each run's series are
 * then read from `metric_series_figures_idx` (migration 023) one run after the other, with neither
 * a sort nor the table. FILTER, not CASE: each series row steps only its own column's aggregate.
 */
export function figuresOfRuns(db: Kysely<DB>, runs: RunKeys, columns: readonly { name: string; figure: Figure }[]) {
  return db
    .selectFrom(runs.as('r'))
    .leftJoin('metric_series as s', 's.experiment_id', 'r.id')
    .select([
      'r.id as id',
      ...columns.map((c, i) =>
        sql<number | null>`max(${sql.ref(`s.${FIGURE_COLUMN[c.figure]}`)}) filter (where s.name = ${c.name})`.as(`c${i}`),
      ),
    ])
    .groupBy(['r.workspace_id', 'r.id']);
}

/** The names of these experiments' non-empty series, with how many experiments have each. */
export async function seriesNameCounts(db: Kysely<DB>, experimentIds: ExperimentIds): Promise<{ name: string; runs: number }[]> {
  const rows = await db
    .selectFrom('metric_series')
    .select((eb) => ['name', eb.fn.countAll<number | string>().as('runs')])
    .where('experiment_id', 'in', experimentIds)
    .where('point_count', '>', 0)
    .groupBy('name')
    .execute();
  return rows.map((r) => ({ name: r.name, runs: Number(r.runs) }));
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

/** The summary figures of every series of these experiments, by name. */
export function seriesSummaries(db: Kysely<DB>, experimentIds: readonly string[]) {
  if (experimentIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('metric_series')
    .select(['experiment_id', 'name', 'last_value', 'min_value', 'max_value', 'nan_count', 'point_count'])
    .where('experiment_id', 'in', experimentIds)
    .orderBy('name')
    .execute();
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

/** Changes whenever points arrive in a series of these experiments. */
export function seriesFreshness(db: Kysely<DB>, experimentIds: readonly string[]) {
  return db
    .selectFrom('metric_series')
    .select((eb) => [eb.fn.max('updated_at').as('updated'), eb.fn.countAll().as('n')])
    .where('experiment_id', 'in', experimentIds)
    .executeTakeFirst();
}

export async function setSeriesUpdatedAt(db: Kysely<DB>, experimentId: string, name: string, at: number): Promise<void> {
  await db
    .updateTable('metric_series')
    .set({ updated_at: at })
    .where('experiment_id', '=', experimentId)
    .where('name', '=', name)
    .execute();
}

/** The first block (with its point data) of every series of one experiment: where its earliest times are. */
export function firstBlocksOf(db: Kysely<DB>, experimentId: string) {
  return db
    .selectFrom('metric_blocks')
    .innerJoin('metric_series', 'metric_series.id', 'metric_blocks.series_id')
    .select(['metric_blocks.data'])
    .where('metric_series.experiment_id', '=', experimentId)
    .where('metric_blocks.seq', '=', 0)
    .execute();
}
