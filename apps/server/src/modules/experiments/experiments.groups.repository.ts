import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DialectHelpers } from '../../db/dialect.js';
import type { DB } from '../../db/schema.js';
import { figuresByExperiment, seriesNameCounts, type Figure } from '../metrics/metrics.repository.js';
import { filteredIds, groupedRuns, type GroupBy, type ListFilter } from './experiments.repository.js';

export type { Figure };

/**
 * The grouped dashboard's aggregation, in SQL, over subqueries of the experiments and metrics
 * repositories (it owns no table). Each matching run becomes one row of its group value and its
 * columns' figures (`figuresByExperiment`); the groups are then aggregated over those rows, one a
 * run rather than one a series.
 */

/** A metric column: one figure of the runs' series of this name (`best` resolved to min or max first). */
export interface ColumnRef {
  name: string;
  figure: Figure;
}

/** A group value: `num` for numeric hyperparameters, `text` otherwise; both null for runs without one. */
export interface GroupKey {
  num: number | null;
  text: string | null;
}

/** One column's statistics over a group's runs: NaN (stored NULL) left out, ±Infinity counted apart. */
export interface ColumnStats {
  /** Runs with a value (infinite ones included). */
  n: number;
  /** Mean, and sum of squared deviations from it, of the finite values (null when there are none). */
  finiteMean: number | null;
  finiteSquares: number | null;
  /** Deviations whose square would pass 1e300, left out of `finiteSquares`: the std is then infinite. */
  wideDeviations: number;
  min: number | null;
  max: number | null;
  positiveInfinities: number;
  negativeInfinities: number;
}

export interface GroupStats extends GroupKey {
  /** Matching runs with this value. */
  count: number;
  /** In the order of the columns asked. */
  columns: ColumnStats[];
}

/**
 * Deviations from the mean at least this wide are counted, not squared: PostgreSQL raises an
 * error where a float8 product overflows (SQLite and JavaScript give Infinity), and a sum of 10⁸
 * squares below 1e300 stays finite.
 */
const WIDE = 1e150;

/** Finite values only: NULL for NaN (stored NULL) and ±Infinity (compared to bound infinities). */
const finite = (v: RawBuilder<unknown>) => sql`case when ${v} > ${-Infinity} and ${v} < ${Infinity} then ${v} end`;

/**
 * The matching runs per group value: their count and, per column, the statistics of the runs'
 * figures. The standard deviation takes two passes: each group's mean (a window sum over count; not
 * AVG, whose running sum of squares overflows into an error on PostgreSQL past ~1e154) first,
 * then the squared deviations from it are summed; the one-pass Σx² − (Σx)²/n loses every digit
 * on values like 1e9 + 0.1.
 */
export async function groupStats(
  db: Kysely<DB>,
  dialect: DialectHelpers,
  q: { filter: ListFilter; groupBy: GroupBy; columns: readonly ColumnRef[] },
): Promise<GroupStats[]> {
  if (q.filter.workspaceIds.length === 0) return [];
  const runs = groupedRuns(db, dialect, q.filter, q.groupBy);
  const ref = (prefix: string, i: number) => sql.ref(`${prefix}${i}`);
  const cols = q.columns.map((_, i) => i);
  const query =
    q.columns.length === 0
      ? sql<Record<string, unknown>>`select r.num as num, r.text as text, count(*) as runs from ${runs} r group by r.num, r.text`
      : sql<Record<string, unknown>>`
    with per_run as ${figuresByExperiment(db, filteredIds(db, dialect, q.filter), q.columns)},
    run_values as (
      select r.num as num, r.text as text, ${sql.join(cols.flatMap((i) => [sql`p.${ref('c', i)}`, sql`${finite(sql`p.${ref('c', i)}`)} as ${ref('f', i)}`]))}
      from ${runs} r left join per_run p on p.id = r.id
    ),
    deviations as (
      select run_values.*, ${sql.join(cols.map((i) => sql`sum(${ref('f', i)}) over w / count(${ref('f', i)}) over w as ${ref('m', i)}`))}
      from run_values
      window w as (partition by num, text)
    )
    select num, text, count(*) as runs, ${sql.join(
      cols.flatMap((i) => {
        const [v, fin, m] = [ref('c', i), ref('f', i), ref('m', i)];
        return [
          sql`count(${v}) as ${ref('n', i)}`,
          sql`max(${m}) as ${ref('mean', i)}`,
          sql`sum(case when abs(${fin} - ${m}) < ${WIDE} then (${fin} - ${m}) * (${fin} - ${m}) end) as ${ref('squares', i)}`,
          sql`count(case when abs(${fin} - ${m}) >= ${WIDE} then 1 end) as ${ref('wide', i)}`,
          sql`min(${v}) as ${ref('min', i)}`,
          sql`max(${v}) as ${ref('max', i)}`,
          sql`count(case when ${fin} is null and ${v} > 0 then 1 end) as ${ref('pinf', i)}`,
          sql`count(case when ${fin} is null and ${v} < 0 then 1 end) as ${ref('ninf', i)}`,
        ];
      }),
    )}
    from deviations
    group by num, text`;
  const { rows } = await dialect.withoutJit(db, (exec) => query.execute(exec));
  return rows.map((r) => ({
    num: r.num as number | null,
    text: r.text as string | null,
    count: Number(r.runs),
    columns: cols.map((i) => {
      const get = (what: string) => r[`${what}${i}`] as number | string | null;
      return {
        n: Number(get('n')),
        finiteMean: nullableNumber(get('mean')),
        finiteSquares: nullableNumber(get('squares')),
        wideDeviations: Number(get('wide')),
        min: nullableNumber(get('min')),
        max: nullableNumber(get('max')),
        positiveInfinities: Number(get('pinf')),
        negativeInfinities: Number(get('ninf')),
      };
    }),
  }));
}

/** The names of the matching runs' non-empty series, with how many runs have each (for the default columns). */
export function seriesNames(
  db: Kysely<DB>,
  dialect: DialectHelpers,
  filter: ListFilter,
): Promise<{ name: string; runs: number }[]> {
  if (filter.workspaceIds.length === 0) return Promise.resolve([]);
  return seriesNameCounts(db, filteredIds(db, dialect, filter));
}

/** Counts (bigint) may arrive as strings; doubles arrive as numbers on both dialects. */
const nullableNumber = (v: number | string | null): number | null => (v === null ? null : Number(v));
