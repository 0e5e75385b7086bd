import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DialectHelpers } from '../../db/dialect.js';
import type { DB } from '../../db/schema.js';
import { groupedRuns, type GroupBy, type ListFilter } from './experiments.repository.js';

/**
 * The grouped dashboard's aggregation, in SQL: runs counted per group value, and per group value
 * and metric name the statistics of the runs' series figures. Two scans of the matching runs, not
 * one read of every run's figures (10 rows a run) aggregated in JavaScript.
 */

/** Which figure of a run's series a column summarises (`best` is resolved to min or max first). */
export type Figure = 'last' | 'min' | 'max';

const COLUMN = { last: 'last_value', min: 'min_value', max: 'max_value' } as const;

/** A group value: `num` for numeric hyperparameters, `text` otherwise; both null for runs without one. */
export interface GroupKey {
  num: number | null;
  text: string | null;
}

/** One figure's statistics over a group's runs: NaN (NULL) left out, ±Infinity counted apart. */
export interface FigureStats {
  /** Runs with a value (infinite ones included). */
  n: number;
  /** Mean and sum of squared deviations from it of the finite values (null when there are none). */
  finiteMean: number | null;
  finiteSquares: number | null;
  min: number | null;
  max: number | null;
  positiveInfinities: number;
  negativeInfinities: number;
}

export interface GroupSeriesStats extends GroupKey {
  name: string;
  /** Non-empty series of this name in the group. */
  series: number;
  figures: Partial<Record<Figure, FigureStats>>;
}

/** The matching runs counted per group value. */
export async function countGroups(
  db: Kysely<DB>,
  dialect: DialectHelpers,
  f: ListFilter,
  g: GroupBy,
): Promise<(GroupKey & { count: number })[]> {
  if (f.workspaceIds.length === 0) return [];
  const { rows } = await sql<GroupKey & { count: number | string }>`
    select r.num as num, r.text as text, count(*) as count
    from (${groupedRuns(db, dialect, f, g)}) r
    group by r.num, r.text`.execute(db);
  return rows.map((r) => ({ num: r.num, text: r.text, count: Number(r.count) }));
}

/** Finite values only: NULL for NaN (stored NULL) and for ±Infinity (compared to bound infinities). */
const finite = (v: RawBuilder<unknown>) => sql`case when ${v} > ${-Infinity} and ${v} < ${Infinity} then ${v} end`;

/**
 * Per group value and metric name (only `names`, or every name when null), the statistics of the
 * runs' `figures` of their non-empty series. The standard deviation takes two passes: each
 * partition's mean (a window AVG) first, then the squared deviations from it are summed; the
 * textbook one-pass Σx² − (Σx)²/n loses every digit on values like 1e9 + 0.1.
 */
export async function groupSeriesStats(
  db: Kysely<DB>,
  dialect: DialectHelpers,
  q: { filter: ListFilter; groupBy: GroupBy; names: readonly string[] | null; figures: readonly Figure[] },
): Promise<GroupSeriesStats[]> {
  if (q.filter.workspaceIds.length === 0 || q.names?.length === 0) return [];
  const value = (f: Figure) => sql.ref(`s.${COLUMN[f]}`);
  const perRun = q.figures.flatMap((f) => [
    sql`${value(f)} as ${sql.ref(`v_${f}`)}`,
    sql`${finite(value(f))} as ${sql.ref(`f_${f}`)}`,
  ]);
  const means = q.figures.map((f) => sql`avg(${sql.ref(`f_${f}`)}) over w as ${sql.ref(`m_${f}`)}`);
  const aggregates = q.figures.flatMap((f) => {
    const [v, fin, m] = [sql.ref(`v_${f}`), sql.ref(`f_${f}`), sql.ref(`m_${f}`)];
    const as = (what: string) => sql.ref(`${f}_${what}`);
    return [
      sql`count(${v}) as ${as('n')}`,
      sql`max(${m}) as ${as('mean')}`,
      sql`sum((${fin} - ${m}) * (${fin} - ${m})) as ${as('squares')}`,
      sql`min(${v}) as ${as('min')}`,
      sql`max(${v}) as ${as('max')}`,
      sql`count(case when ${fin} is null and ${v} > 0 then 1 end) as ${as('pinf')}`,
      sql`count(case when ${fin} is null and ${v} < 0 then 1 end) as ${as('ninf')}`,
    ];
  });
  const named = q.names === null ? sql`` : sql`and s.name in (${sql.join(q.names)})`;
  const { rows } = await sql<Record<string, unknown>>`
    with figures as (
      select r.num as num, r.text as text, s.name as name, ${sql.join(perRun)}
      from (${groupedRuns(db, dialect, q.filter, q.groupBy)}) r
      join metric_series s on s.experiment_id = r.id
      where s.point_count > 0 ${named}
    ),
    deviations as (
      select figures.*, ${sql.join(means)}
      from figures
      window w as (partition by num, text, name)
    )
    select num, text, name, count(*) as series, ${sql.join(aggregates)}
    from deviations
    group by num, text, name`.execute(db);
  return rows.map((r) => ({
    num: r.num as number | null,
    text: r.text as string | null,
    name: r.name as string,
    series: Number(r.series),
    figures: Object.fromEntries(
      q.figures.map((f) => {
        const get = (what: string) => r[`${f}_${what}`] as number | string | null;
        const stats: FigureStats = {
          n: Number(get('n')),
          finiteMean: nullableNumber(get('mean')),
          finiteSquares: nullableNumber(get('squares')),
          min: nullableNumber(get('min')),
          max: nullableNumber(get('max')),
          positiveInfinities: Number(get('pinf')),
          negativeInfinities: Number(get('ninf')),
        };
        return [f, stats];
      }),
    ),
  }));
}

/** PostgreSQL's driver returns counts (bigint) as strings; doubles arrive as numbers on both. */
const nullableNumber = (v: number | string | null): number | null => (v === null ? null : Number(v));
