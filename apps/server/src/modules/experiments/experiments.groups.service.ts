import type { Static } from '@sinclair/typebox';
import type { AppContext, Caller } from '../../context.js';
import { badRequest } from '../../errors.js';
import { EXPERIMENT_LIMITS as LIMITS } from '../../lib/limits.js';
import { toWire } from '../../lib/numbers.js';
import { directionOf } from '../compare/directions.js';
import { listDirections } from '../compare/directions.repository.js';
import { seriesFiguresOf } from '../metrics/metrics.repository.js';
import * as repo from './experiments.repository.js';
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

function parseGroupBy(raw: string): repo.GroupBy {
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

/** Mean, population std (two passes), min and max of the finite-or-infinite, non-NaN values. */
function stats(values: readonly number[]): Stats {
  const n = values.length;
  if (n === 0) return { mean: null, std: null, min: null, max: null, n: 0 };
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / n;
  let sq = 0;
  for (const v of values) sq += (v - mean) * (v - mean);
  return { mean: toWire(mean), std: toWire(Math.sqrt(sq / n)), min: toWire(min), max: toWire(max), n };
}

type Group = { value: string | number | null; ids: string[] };

/**
 * The dashboard grouped: the list's filters apply first, then one row per value of `groupBy` with
 * its run count and, per metric column, mean ± std (population), min, max and n of the runs'
 * last (or min, max, best by direction) values.
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
  const [values, figures, overrides] = await Promise.all([
    repo.groupValues(ctx.db, ctx.dialect, filter, parseGroupBy(query.groupBy)),
    filter.workspaceIds.length === 0
      ? Promise.resolve([])
      : seriesFiguresOf(ctx.db, repo.filteredIds(ctx.db, ctx.dialect, filter), asked && [...new Set(asked.map((c) => c.name))]),
    query.workspace ? listDirections(ctx.db, query.workspace) : Promise.resolve(new Map<string, never>()),
  ]);
  const columns = asked ?? defaultColumns(figures);
  const sortBy = query.groupSort ?? 'value';
  if (sortBy !== 'value' && sortBy !== 'count' && !columns.some((c) => c.key === sortBy)) {
    throw badRequest('query.groupSort must be value, count or one of groupMetrics', [
      { path: 'query.groupSort', message: `"${sortBy.slice(0, 40)}" is not a column` },
    ]);
  }

  const groups = new Map<string, Group>();
  const groupOf = new Map<string, Group>();
  for (const { id, value } of values) {
    const key = JSON.stringify(value);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { value, ids: [] }));
    g.ids.push(id);
    groupOf.set(id, g);
  }
  // Per column, per group: the runs' values.
  const byName = new Map<string, Column[]>();
  for (const c of columns) byName.set(c.name, [...(byName.get(c.name) ?? []), c]);
  const collected = new Map<Group, Map<string, number[]>>();
  for (const row of figures) {
    const g = groupOf.get(row.experiment_id);
    const cols = byName.get(row.name);
    if (!g || !cols) continue;
    let perColumn = collected.get(g);
    if (!perColumn) collected.set(g, (perColumn = new Map<string, number[]>()));
    for (const c of cols) {
      const figure = c.figure === 'best' ? (directionOf(c.name, overrides) ?? 'min') : c.figure;
      const v = figure === 'last' ? row.last_value : figure === 'min' ? row.min_value : row.max_value;
      if (v === null || Number.isNaN(v)) continue;
      const list = perColumn.get(c.key) ?? [];
      list.push(v);
      perColumn.set(c.key, list);
    }
  }
  const out = [...groups.values()].map((g) => ({
    value: g.value,
    count: g.ids.length,
    metrics: Object.fromEntries(columns.map((c) => [c.key, stats(collected.get(g)?.get(c.key) ?? [])])),
  }));
  sortGroups(out, sortBy, query.order);
  return { groups: out.slice(0, LIMITS.groupsPerResponse), groupCount: out.length, total: values.length };
}

/** The metrics most of the runs have (at most defaultGroupColumns), by last value. */
function defaultColumns(figures: readonly { name: string }[]): Column[] {
  const counts = new Map<string, number>();
  for (const f of figures) counts.set(f.name, (counts.get(f.name) ?? 0) + 1);
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, LIMITS.defaultGroupColumns)
    .map(([name]) => name)
    .sort()
    .map((name) => ({ key: name, name, figure: 'last' as const }));
}

const asNumber = (v: number | string | null): number | null =>
  typeof v === 'number' ? v : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : null;

/** Groups by value (numbers, then strings, then none), count, or a column's mean (groups without one last). */
function sortGroups(groups: Groups['groups'], by: string, order: 'asc' | 'desc' | undefined): void {
  const sign = (order ?? (by === 'count' ? 'desc' : 'asc')) === 'desc' ? -1 : 1;
  const rank = (v: unknown): number => (typeof v === 'number' ? 0 : typeof v === 'string' ? 1 : 2);
  groups.sort((a, b) => {
    if (by === 'value' || by === 'count') {
      if (by === 'count' && a.count !== b.count) return sign * (a.count - b.count);
      if (rank(a.value) !== rank(b.value)) return rank(a.value) - rank(b.value);
      if (typeof a.value === 'number' && typeof b.value === 'number') return sign * (a.value - b.value);
      return sign * String(a.value).localeCompare(String(b.value));
    }
    const x = asNumber(a.metrics[by]?.mean ?? null);
    const y = asNumber(b.metrics[by]?.mean ?? null);
    if (x === null || y === null) return (x === null ? 1 : 0) - (y === null ? 1 : 0);
    return sign * (x - y);
  });
}
