import type { Static } from '@sinclair/typebox';
import type { AppContext, Caller } from '../../context.js';
import { badRequest } from '../../errors.js';
import { EXPERIMENT_LIMITS as LIMITS } from '../../lib/limits.js';
import { toWire } from '../../lib/numbers.js';
import { directionOf } from '../compare/directions.js';
import { listDirections } from '../compare/directions.repository.js';
import type { GroupBy } from './experiments.repository.js';
import * as groupsRepo from './experiments.groups.repository.js';
import type { ColumnStats, Figure } from './experiments.groups.repository.js';
import type { ExperimentGroups, ListQuery } from './experiments.schemas.js';
import { listFilterFor } from './experiments.service.js';

type Groups = Static<typeof ExperimentGroups>;
type Stats = Groups['groups'][number]['metrics'][string];

/** One metric column: which figure of each run's series it summarises. */
interface Column {
  key: string;
  name: string;
  figure: 'last' | 'min' | 'max' | 'best';
}

function parseGroupBy(raw: string): GroupBy {
  if (raw === 'group') return { by: 'group' };
  if (raw.startsWith('params.')) return { by: 'param', key: raw.slice('params.'.length) };
  return { by: 'tag', key: raw.slice('tags.'.length) };
}

function parseColumns(raw: string | undefined): Column[] | null {
  if (raw === undefined) return null;
  const keys = [...new Set(raw.split(',').map((s) => s.trim()))].filter(Boolean);
  if (keys.length === 0 || keys.length > LIMITS.groupColumns) {
    throw badRequest(`query.groupMetrics must name 1 to ${LIMITS.groupColumns} columns`, [
      { path: 'query.groupMetrics', message: 'wrong number of columns' },
    ]);
  }
  return keys.map((key) => {
    const m = /^(last|min|max|best):(.+)$/s.exec(key);
    return m ? { key, name: m[2]!, figure: m[1] as Column['figure'] } : { key, name: key, figure: 'last' };
  });
}

/**
 * A column's statistics from the repository's: an infinite value makes the mean infinite (NaN when
 * both signs occur) and the std NaN, as summing in floating point would, and a deviation whose
 * square overflows makes the std infinite; NaN values are left out.
 */
function toStats(c: ColumnStats | undefined): Stats {
  if (!c || c.n === 0) return { mean: null, std: null, min: null, max: null, n: 0 };
  const { positiveInfinity: pos, negativeInfinity: neg } = c;
  const mean = pos && neg ? NaN : pos ? Infinity : neg ? -Infinity : c.mean!;
  const std = pos || neg ? NaN : c.wide ? Infinity : Math.sqrt(c.squares! / c.n);
  return { mean: toWire(mean), std: toWire(std), min: toWire(c.min!), max: toWire(c.max!), n: c.n };
}

/**
 * The dashboard grouped: the list's filters apply first, then one row per value of `groupBy` with
 * its run count and, per metric column, mean ± std (population), min, max and n of the runs'
 * last (or min, max, best by direction) values. Aggregated in SQL (experiments.groups.repository).
 *
 * @example
 *   await groupExperiments(ctx, caller, { workspace, groupBy: 'params.lr', groupMetrics: 'best:val/loss' });
 */
export async function groupExperiments(
  ctx: AppContext,
  caller: Caller,
  query: Static<typeof ListQuery> & { groupBy: string },
): Promise<Groups> {
  const filter = await listFilterFor(ctx, caller, query);
  const asked = parseColumns(query.groupMetrics);
  const sortBy = query.groupSort ?? 'value';
  const [overrides, columns] = await Promise.all([
    query.workspace ? listDirections(ctx.db, query.workspace) : Promise.resolve(new Map<string, never>()),
    asked ?? groupsRepo.seriesNames(ctx.db, ctx.dialect, filter).then(defaultColumns),
  ]);
  if (sortBy !== 'value' && sortBy !== 'count' && !columns.some((c) => c.key === sortBy)) {
    throw badRequest('query.groupSort must be value, count or one of groupMetrics', [
      { path: 'query.groupSort', message: `"${sortBy.slice(0, 40)}" is not a column` },
    ]);
  }
  const figureOf = (c: Column): Figure => (c.figure === 'best' ? (directionOf(c.name, overrides) ?? 'min') : c.figure);
  const groups = await groupsRepo.groupStats(ctx.db, ctx.dialect, {
    filter,
    groupBy: parseGroupBy(query.groupBy),
    columns: columns.map((c) => ({ name: c.name, figure: figureOf(c) })),
  });
  const out = groups.map((g) => ({
    value: g.num ?? g.text,
    count: g.count,
    metrics: Object.fromEntries(columns.map((c, i) => [c.key, toStats(g.columns[i])])),
  }));
  sortGroups(out, sortBy, query.order);
  return {
    groups: out.slice(0, LIMITS.groupsPerResponse),
    groupCount: out.length,
    total: groups.reduce((sum, g) => sum + g.count, 0),
  };
}

/** The metrics most of the runs have (at most defaultGroupColumns), by last value. */
function defaultColumns(names: readonly { name: string; runs: number }[]): Column[] {
  return [...names]
    .sort((a, b) => b.runs - a.runs || a.name.localeCompare(b.name))
    .slice(0, LIMITS.defaultGroupColumns)
    .map((c) => c.name)
    .sort()
    .map((name) => ({ key: name, name, figure: 'last' as const }));
}

const asNumber = (v: number | string | null): number | null =>
  typeof v === 'number' ? v : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : null;

/**
 * Groups by value (numbers, then strings, then none), count, or a column's mean (groups without one
 * last); ties by value, so the order does not depend on the order the database answered in.
 */
function sortGroups(groups: Groups['groups'], by: string, order: 'asc' | 'desc' | undefined): void {
  const sign = (order ?? (by === 'count' ? 'desc' : 'asc')) === 'desc' ? -1 : 1;
  const rank = (v: unknown): number => (typeof v === 'number' ? 0 : typeof v === 'string' ? 1 : 2);
  const byValue = (a: Groups['groups'][number], b: Groups['groups'][number]): number => {
    if (rank(a.value) !== rank(b.value)) return rank(a.value) - rank(b.value);
    if (typeof a.value === 'number' && typeof b.value === 'number') return sign * (a.value - b.value);
    return sign * String(a.value).localeCompare(String(b.value));
  };
  groups.sort((a, b) => {
    if (by === 'value') return byValue(a, b);
    if (by === 'count') return sign * (a.count - b.count) || byValue(a, b);
    const x = asNumber(a.metrics[by]?.mean ?? null);
    const y = asNumber(b.metrics[by]?.mean ?? null);
    if (x === null || y === null) return (x === null ? 1 : 0) - (y === null ? 1 : 0) || byValue(a, b);
    return sign * (x - y) || byValue(a, b);
  });
}
