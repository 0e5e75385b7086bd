import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { DialectHelpers } from '../../db/dialect.js';
import type { DB } from '../../db/schema.js';
import { figuresOfRuns, seriesNameCounts, type Figure } from '../metrics/metrics.repository.js';
import {
  filteredIds,
  filteredRuns,
  groupValueOf,
  withGroupKey,
  type GroupBy,
  type GroupKeyRow,
  type ListFilter,
} from './experiments.repository.js';

export type { Figure };

/**
 * The grouped dashboard's aggregation, in SQL, over subqueries of the experiments and metrics
 * repositories (it owns no table). Each matching run becomes one row of its group key and its
 * columns' figures (`figuresOfRuns`); the groups are then aggregated over those rows, one a run
 * rather than one a series.
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

/** One column's statistics over a group's runs: NaN (stored NULL) left out. */
export interface ColumnStats {
  /** Runs with a value (infinite ones included). */
  n: number;
  /** Mean of the values, and sum of squared deviations from it; both null when there are none. */
  mean: number | null;
  squares: number | null;
  min: number | null;
  max: number | null;
  /** Whether a value is +Infinity / -Infinity: the mean and squares are then not the finite values'. */
  positiveInfinity: boolean;
  negativeInfinity: boolean;
  /** Some deviation from the mean is at least WIDE (left out of `squares`): the std is then infinite. */
  wide: boolean;
}

export interface GroupStats extends GroupKey {
  /** Matching runs with this value. */
  count: number;
  /** In the order of the columns asked. */
  columns: ColumnStats[];
}

/**
 * Deviations from the mean at least this wide are not squared: PostgreSQL raises an error where a
 * float8 product overflows (SQLite and JavaScript give Infinity), and a sum of 10⁸ squares below
 * 1e300 stays finite. The widest deviations are the min's and the max's, so whether one is this
 * wide is read from them (rounding f − mean is monotonic in f).
 */
const WIDE = 1e150;

/**
 * The matching runs per group value: their count and, per column, the statistics of the runs'
 * figures (groupStatsSql). An infinite value leaves the mean and squares meaningless: the service
 * answers for it from min and max.
 */
export async function groupStats(db: Kysely<DB>, dialect: DialectHelpers, q: GroupStatsQuery): Promise<GroupStats[]> {
  if (q.filter.workspaceIds.length === 0) return [];
  const cols = q.columns.map((_, i) => i);
  let rows: Row[];
  try {
    ({ rows } = await dialect.withoutJit(db, (exec) => groupStatsSql(db, dialect, q).execute(exec)));
  } catch (err) {
    // PostgreSQL raises where float8 arithmetic on finite values overflows (a sum of values near
    // 1e308, or a deviation between two of opposite signs), where SQLite and JavaScript give
    // Infinity. Such groups are aggregated here instead, from each run's values, with the same rules.
    if ((err as { code?: unknown }).code !== NUMERIC_OUT_OF_RANGE) throw err;
    rows = aggregateInMemory(await runValues(db, dialect, q), cols);
  }
  return rows.map((r) => ({
    ...groupValueOf(r),
    count: Number(r.runs),
    columns: cols.map((i) => {
      const get = (what: string) => nullableNumber(r[`${what}${i}`] as number | string | null);
      const [mean, min, max] = [get('mean'), get('min'), get('max')];
      return {
        n: Number(get('n')),
        mean,
        squares: get('squares'),
        min,
        max,
        positiveInfinity: max === Infinity,
        negativeInfinity: min === -Infinity,
        wide: mean !== null && (max! - mean >= WIDE || mean - min! >= WIDE),
      };
    }),
  }));
}

export interface GroupStatsQuery {
  filter: ListFilter;
  groupBy: GroupBy;
  columns: readonly ColumnRef[];
}

/**
 * groupStats' statement (exported for the test of its plan). The standard deviation takes two
 * passes: each group's mean (sum over count; not AVG, whose running sum of squares overflows into
 * an error on PostgreSQL past ~1e154), then the squared deviations from it, each run joined to its
 * group's mean by the group key (never null, so PostgreSQL can hash the join); the one-pass
 * Σx² − (Σx)²/n loses every digit on values like 1e9 + 0.1. The second pass also counts and takes
 * min and max, so no two per-group tables are joined (PostgreSQL, misjudging their sizes, nested
 * loops them). The runs are sorted by group once, as they are stored (`materialized … order by`),
 * and SQLite aggregates both passes in that order without sorting again: one sort of the runs
 * where there were three (a window for the mean, the GROUP BY, a temporary index).
 */
export function groupStatsSql(db: Kysely<DB>, dialect: DialectHelpers, q: GroupStatsQuery): RawBuilder<Row> {
  const runs = filteredRuns(db, dialect, q.filter);
  const ref = (prefix: string, i: number) => sql.ref(`${prefix}${i}`);
  const cols = q.columns.map((_, i) => i);
  if (q.columns.length === 0) {
    return sql<Row>`select kind, num, text, count(*) as runs from (${withGroupKey(runs, q.groupBy)}) r group by kind, num, text`;
  }
  return sql<Row>`
    with run_values as materialized (
      select kind, num, text, ${sql.join(cols.map((i) => ref('c', i)))}
      from (${runValuesSql(db, dialect, q)}) r order by kind, num, text
    ),
    means as (
      select kind, num, text, ${sql.join(cols.map((i) => sql`sum(${ref('c', i)}) / count(${ref('c', i)}) as ${ref('mean', i)}`))}
      from run_values group by kind, num, text
    )
    select v.kind, v.num, v.text, count(*) as runs, ${sql.join(
      cols.flatMap((i) => {
        const [v, mean] = [sql`v.${ref('c', i)}`, sql`m.${ref('mean', i)}`];
        const d = sql`(${v} - ${mean})`;
        return [
          sql`count(${v}) as ${ref('n', i)}`,
          sql`max(${mean}) as ${ref('mean', i)}`,
          sql`min(${v}) as ${ref('min', i)}`,
          sql`max(${v}) as ${ref('max', i)}`,
          sql`sum(case when abs(${d}) < ${WIDE} then ${d} * ${d} end) as ${ref('squares', i)}`,
        ];
      }),
    )}
    from run_values v join means m on m.kind = v.kind and m.num = v.num and m.text = v.text
    group by v.kind, v.num, v.text`;
}

type Row = GroupKeyRow & { runs: number | string } & Record<string, unknown>;

/** PostgreSQL's SQLSTATE for a float8 result out of range. */
const NUMERIC_OUT_OF_RANGE = '22003';

/** Each matching run's group key (`kind`, `num`, `text`) and column figures (`c<i>`): groupStatsSql's `run_values`. */
function runValuesSql(db: Kysely<DB>, dialect: DialectHelpers, q: GroupStatsQuery): RawBuilder<GroupKeyRow> {
  return withGroupKey(figuresOfRuns(db, filteredRuns(db, dialect, q.filter), q.columns), q.groupBy);
}

/** runValuesSql's rows, unaggregated (the overflow fallback of groupStats). */
async function runValues(db: Kysely<DB>, dialect: DialectHelpers, q: GroupStatsQuery): Promise<Record<string, unknown>[]> {
  const { rows } = await sql<Record<string, unknown>>`${runValuesSql(db, dialect, q)}`.execute(db);
  return rows;
}

/**
 * groupStatsSql's answer computed from `runValues`' rows in JavaScript's float arithmetic, which
 * overflows to Infinity instead of raising: per group the count and, per column, n, the mean (sum
 * over count), the squared deviations under WIDE summed, min and max, NULLs (NaN) left out.
 */
function aggregateInMemory(runs: Record<string, unknown>[], cols: number[]): Row[] {
  const groups = new Map<string, { key: GroupKeyRow; runs: Record<string, unknown>[] }>();
  for (const r of runs) {
    const key = { kind: Number(r.kind), num: Number(r.num), text: String(r.text) };
    const id = JSON.stringify([key.kind, key.num, key.text]);
    const g = groups.get(id) ?? { key, runs: [] };
    g.runs.push(r);
    groups.set(id, g);
  }
  return [...groups.values()].map(({ key, runs: members }) => {
    const row: Row = { ...key, runs: members.length };
    for (const i of cols) {
      const values = members.map((r) => r[`c${i}`]).flatMap((v) => (v === null || v === undefined ? [] : [Number(v)]));
      const n = values.length;
      const mean = n === 0 ? null : values.reduce((a, b) => a + b, 0) / n;
      const deviations = mean === null ? [] : values.map((v) => v - mean).filter((d) => Math.abs(d) < WIDE);
      Object.assign(row, {
        [`n${i}`]: n,
        [`mean${i}`]: mean,
        [`min${i}`]: n === 0 ? null : values.reduce((a, b) => Math.min(a, b)),
        [`max${i}`]: n === 0 ? null : values.reduce((a, b) => Math.max(a, b)),
        [`squares${i}`]: deviations.length === 0 ? null : deviations.reduce((a, d) => a + d * d, 0),
      });
    }
    return row;
  });
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
