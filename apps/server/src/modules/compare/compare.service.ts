import type { Static } from '@sinclair/typebox';
import type { AppContext, Caller } from '../../context.js';
import type { MetricDirection } from '../../db/schema.js';
import { badRequest, notFound } from '../../errors.js';
import { COMPARE_LIMITS } from '../../lib/limits.js';
import { toWire } from '../../lib/numbers.js';
import type { Experiment } from '../experiments/experiment.js';
import { findLiveExperiments } from '../experiments/experiments.repository.js';
import { visibleReferences } from '../experiments/experiments.service.js';
import { effectiveStatus } from '../experiments/status.js';
import {
  bucketSeries,
  bucketSeriesByTime,
  collect,
  timeRange,
  toBucketedSeries,
  type Bucketed,
} from '../metrics/metrics.buckets.service.js';
import { blockExtremes, seriesOf, type SeriesRow } from '../metrics/metrics.repository.js';
import { axisName, axisRange, bucketOnAxis, parseAxis, runAxis, type AxisSpec } from '../metrics/metrics.axes.service.js';
import { Bucketer } from '../metrics/buckets.js';
import { WINDOW_STEPS } from '../metrics/windows.js';
import type {
  CompareExperiment as CompareExperimentSchema,
  CompareMetric as CompareMetricSchema,
  CompareResponse,
  Delta as DeltaSchema,
} from './compare.schemas.js';
import { runTags } from '../experiments/run-tags.repository.js';
import { directionOf } from './directions.js';
import { listDirections } from './directions.repository.js';
import { readableWorkspaces } from '../workspaces/access.js';

const { experiments: MAX_COMPARE_EXPERIMENTS, defaultMetrics: DEFAULT_METRICS, maxBuckets: MAX_COMPARE_BUCKETS } = COMPARE_LIMITS;

export interface CompareQuery {
  ids: readonly string[];
  metrics?: readonly string[];
  budget: number;
  from?: number;
  to?: number;
  referenceId?: string;
  /** step (default), time (epoch ms), relative (seconds since each run's first point) or metric:<name>. */
  x?: string;
}

/** `bestIsBetter`: whether the best value beats the reference's, by the metric's direction; null when not comparable. */
type Delta = Static<typeof DeltaSchema>;
type CompareMetric = Static<typeof CompareMetricSchema>;
type CompareExperiment = Static<typeof CompareExperimentSchema>;
export type CompareResult = Static<typeof CompareResponse>;

/**
 * Loads experiments the caller can read, in the order asked. Any id that does not exist or
 * lies outside the caller's workspaces is a 404, so the answer never tells the two apart.
 */
export async function readableExperiments(ctx: AppContext, caller: Caller, ids: readonly string[]): Promise<Experiment[]> {
  const rows = await findLiveExperiments(ctx.db, ids);
  const readable = await readableWorkspaces(ctx.db, caller.userId, [...new Set(rows.map((r) => r.workspaceId))]);
  const byId = new Map(rows.filter((r) => readable.has(r.workspaceId)).map((r) => [r.id, r]));
  return ids.map((id) => {
    const row = byId.get(id);
    if (!row) throw notFound('EXPERIMENT_NOT_FOUND', `Experiment ${id}`);
    return row;
  });
}

/** Best (by direction) finite value of each series and its step, from block summaries; ties go to the earliest step. */
async function bestPoints(
  ctx: AppContext,
  series: readonly { row: SeriesRow; direction: MetricDirection | null }[],
): Promise<Map<number, { value: number; step: number }>> {
  const dir = new Map(series.filter((s) => s.direction !== null).map((s) => [s.row.id, s.direction!]));
  const best = new Map<number, { value: number; step: number }>();
  for (const b of await blockExtremes(ctx.db, [...dir.keys()])) {
    const d = dir.get(b.series_id)!;
    const value = d === 'min' ? b.min_value : b.max_value;
    const step = d === 'min' ? b.min_step : b.max_step;
    if (value === null || step === null) continue;
    const cur = best.get(b.series_id);
    const better = !cur || (d === 'min' ? value < cur.value : value > cur.value) || (value === cur.value && step < cur.step);
    if (better) best.set(b.series_id, { value, step });
  }
  return best;
}

function relative(value: number | null, ref: number | null): { diff: number | null; pct: number | null } {
  if (value === null || ref === null || !Number.isFinite(value) || !Number.isFinite(ref)) return { diff: null, pct: null };
  const diff = value - ref;
  return { diff, pct: ref === 0 ? null : (diff / Math.abs(ref)) * 100 };
}

/** The figures a Δ is taken from, in numbers: last value (NaN when it is NaN) and best, if any. */
interface Figures {
  last: number;
  best: number | null;
}

function deltaOf(mine: Figures, ref: Figures | undefined, direction: MetricDirection | null): Delta | null {
  if (!ref) return null;
  const last = relative(mine.last, ref.last);
  const best = relative(mine.best, ref.best);
  let bestIsBetter: boolean | null = null;
  if (best.diff !== null && direction !== null) bestIsBetter = direction === 'min' ? best.diff < 0 : best.diff > 0;
  return { last: last.diff, lastPct: last.pct, best: best.diff, bestPct: best.pct, bestIsBetter };
}

/**
 * Buckets narrower than a window force every point to be decoded; aligned double-window buckets
 * merge precomputed summaries instead (~10× cheaper). Compare trades up to half the requested
 * resolution for that — each bucket still keeps min/max, so no spike or NaN is lost — and
 * reports the budget it used in each series' `budget`.
 */
function windowFriendlyBudget(from: number, to: number, budget: number): number {
  const span = to - from + 1;
  if (span / budget >= WINDOW_STEPS || span / budget < WINDOW_STEPS / 2) return budget;
  const snapped = Math.floor(span / WINDOW_STEPS);
  return Math.ceil(span / (2 * WINDOW_STEPS)) >= 0.45 * budget ? snapped : budget;
}

/** Samples Tora or a framework logged about the machine (`system/cpu`, …): after the user's own metrics. */
const isSystem = (name: string): boolean => name.startsWith('system/');

/** Every metric of the compared runs: the user's first (most shared first), `system/*` last; then by name. */
function metricsInOrder(series: readonly SeriesRow[]): string[] {
  const shared = new Map<string, number>();
  for (const s of series) shared.set(s.name, (shared.get(s.name) ?? 0) + 1);
  return [...shared.entries()]
    .sort((a, b) => Number(isSystem(a[0])) - Number(isSystem(b[0])) || b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([name]) => name);
}

/** Without a list, the (up to 20) metrics most shared by the runs, the user's before `system/*`. */
function pickMetrics(series: readonly SeriesRow[]): string[] {
  return metricsInOrder(series)
    .slice(0, DEFAULT_METRICS)
    .sort((a, b) => Number(isSystem(a)) - Number(isSystem(b)) || a.localeCompare(b));
}

/**
 * Bucketed series of M metrics for N experiments at one point budget, with each experiment's
 * hyperparameters, last/best per metric and Δ against a reference experiment.
 *
 * @example
 *   await compareExperiments(ctx, caller, { ids: [a, b], metrics: ['loss'], budget: 800, referenceId: a });
 */
export async function compareExperiments(ctx: AppContext, caller: Caller, q: CompareQuery): Promise<CompareResult> {
  const ids = [...new Set(q.ids)];
  if (ids.length === 0 || ids.length > MAX_COMPARE_EXPERIMENTS) {
    throw badRequest(`Compare 1 to ${MAX_COMPARE_EXPERIMENTS} experiments`, [{ path: 'ids', message: 'wrong number of ids' }]);
  }
  const buckets = ids.length * (q.metrics ? new Set(q.metrics).size : DEFAULT_METRICS) * q.budget;
  if (buckets > MAX_COMPARE_BUCKETS) {
    throw badRequest(
      `${ids.length} experiments × ${q.metrics ? new Set(q.metrics).size : DEFAULT_METRICS} metrics × budget ${q.budget} ` +
        `is more than ${MAX_COMPARE_BUCKETS} buckets per response: lower the budget or compare fewer experiments or metrics`,
      [{ path: 'budget', message: `experiments × metrics × budget must be at most ${MAX_COMPARE_BUCKETS}` }],
    );
  }
  if (q.from !== undefined && q.to !== undefined && q.to < q.from) {
    throw badRequest('to must not be less than from', [{ path: 'to', message: 'less than from' }]);
  }
  const wanted = q.referenceId !== undefined && !ids.includes(q.referenceId) ? [...ids, q.referenceId] : ids;
  const rows = await readableExperiments(ctx, caller, wanted);
  const names = q.metrics ? [...new Set(q.metrics)] : null;
  // Every series of the runs (not only the ones asked for), so the answer can name what else there is.
  const everySeries = await seriesOf(ctx.db, wanted, null);
  const allSeries = names ? everySeries.filter((s) => names.includes(s.name)) : everySeries;
  const metricNames = names ?? pickMetrics(allSeries);
  const selected = allSeries.filter((s) => metricNames.includes(s.name));
  // Directions follow the first experiment's workspace: one direction per metric keeps "best" comparable.
  const overrides = await listDirections(ctx.db, rows[0]!.workspaceId);
  const direction = new Map(metricNames.map((n) => [n, directionOf(n, overrides)]));

  const bestOf = bestPoints(
    ctx,
    selected.map((row) => ({ row, direction: direction.get(row.name) ?? null })),
  );
  const axis = parseAxis(q.x);
  const [best, bucketed] = await Promise.all([
    bestOf,
    axis.kind === 'step'
      ? bucketAllBySteps(ctx, selected, q)
      : axis.kind === 'time'
        ? bucketAllByTime(ctx, selected, q)
        : bucketAllOnAxis(ctx, selected, axis, q),
  ]);
  const byExperiment = new Map<string, { metric: CompareMetric; figures: Figures }[]>();
  selected.forEach((s, i) => {
    const b = best.get(s.id);
    const figures = { last: s.last_value ?? NaN, best: b ? b.value : null };
    const list = byExperiment.get(s.experiment_id) ?? [];
    list.push({
      metric: {
        name: s.name,
        count: s.point_count,
        last: toWire(figures.last),
        lastStep: s.last_step,
        best: b ? toWire(b.value) : null,
        bestStep: b ? b.step : null,
        delta: null,
        series: toBucketedSeries(bucketed[i]!),
      },
      figures,
    });
    byExperiment.set(s.experiment_id, list);
  });
  const refFigures = q.referenceId
    ? new Map((byExperiment.get(q.referenceId) ?? []).map((m) => [m.metric.name, m.figures]))
    : null;
  const [refs, tagRows] = await Promise.all([
    visibleReferences(ctx, caller, rows),
    runTags(
      ctx.db,
      rows.map((r) => r.id),
    ),
  ]);
  const tagsOf = new Map<string, Record<string, string>>();
  for (const t of tagRows) tagsOf.set(t.experiment_id, { ...tagsOf.get(t.experiment_id), [t.key]: t.value });
  const experiments = rows.map((row): CompareExperiment => {
    const metrics = byExperiment.get(row.id) ?? [];
    if (refFigures) {
      for (const { metric, figures } of metrics) {
        metric.delta = deltaOf(figures, refFigures.get(metric.name), direction.get(metric.name) ?? null);
      }
    }
    return {
      id: row.id,
      name: row.name,
      workspaceId: row.workspaceId,
      status: effectiveStatus(ctx, row),
      referenceId: row.referenceId !== null && refs.has(row.referenceId) ? row.referenceId : null,
      hyperparams: row.hyperparams,
      group: row.group,
      runTags: tagsOf.get(row.id) ?? {},
      metrics: metrics.map((m) => m.metric),
    };
  });
  return {
    budget: q.budget,
    referenceId: q.referenceId ?? null,
    metrics: metricNames.map((name) => ({ name, direction: direction.get(name) ?? null })),
    availableMetrics: metricsInOrder(everySeries.filter((s) => ids.includes(s.experiment_id))),
    experiments,
  };
}

/** The range every experiment's series of one metric shares, so their buckets line up on one x-axis. */
function sharedRanges<T>(
  items: readonly T[],
  nameOf: (t: T) => string,
  rangeOf: (t: T) => { from: number; to: number },
  q: { from?: number; to?: number },
): (t: T) => { from: number; to: number } {
  const ranges = new Map<string, { from: number; to: number }>();
  for (const item of items) {
    const r = ranges.get(nameOf(item)) ?? { from: Infinity, to: -Infinity };
    const own = rangeOf(item);
    ranges.set(nameOf(item), { from: Math.min(r.from, own.from), to: Math.max(r.to, own.to) });
  }
  return (item) => {
    const r = ranges.get(nameOf(item))!;
    const from = q.from ?? r.from;
    return { from, to: Math.max(q.to ?? r.to, from) };
  };
}

function bucketAllBySteps(ctx: AppContext, selected: readonly SeriesRow[], q: CompareQuery): Promise<Bucketed[]> {
  const range = sharedRanges(
    selected,
    (s) => s.name,
    (s) => ({ from: s.first_step, to: s.last_step }),
    q,
  );
  return Promise.all(
    selected.map((s) => {
      const r = range(s);
      return bucketSeries(ctx, s, { ...r, budget: windowFriendlyBudget(r.from, r.to, q.budget) });
    }),
  );
}

async function bucketAllByTime(ctx: AppContext, selected: readonly SeriesRow[], q: CompareQuery): Promise<Bucketed[]> {
  // One series at a time, streamed: a compare of 20 runs by wall time must not hold 4·10⁶ points.
  const ranges: { series: SeriesRow; from: number; to: number }[] = [];
  for (const s of selected) {
    const own = q.from !== undefined && q.to !== undefined ? { from: q.from, to: q.to } : await timeRange(ctx, s);
    ranges.push({ series: s, ...own });
  }
  const range = sharedRanges(
    ranges,
    (r) => r.series.name,
    (r) => ({ from: r.from, to: r.to }),
    q,
  );
  const out: Bucketed[] = [];
  for (const r of ranges) out.push(await bucketSeriesByTime(ctx, r.series, { ...range(r), budget: q.budget }));
  return out;
}

/**
 * Relative time or a metric as x: one run at a time (an x metric is held whole while its run's
 * series are bucketed), over ranges shared by name. A run without the x metric gets empty series.
 */
async function bucketAllOnAxis(
  ctx: AppContext,
  selected: readonly SeriesRow[],
  spec: Exclude<AxisSpec, { kind: 'step' | 'time' }>,
  q: CompareQuery,
): Promise<Bucketed[]> {
  const runs = [...new Set(selected.map((s) => s.experiment_id))];
  const ranges = new Map<SeriesRow, { from: number; to: number } | null>();
  for (const run of runs) {
    const axis = await runAxis(ctx, run, spec);
    for (const s of selected) {
      if (s.experiment_id === run) ranges.set(s, axis && (await axisRange(ctx, s, axis)));
    }
  }
  const withRange = selected.filter((s) => ranges.get(s));
  const range = sharedRanges(
    withRange,
    (s) => s.name,
    (s) => ranges.get(s)!,
    q,
  );
  const out = new Map<SeriesRow, Bucketed>();
  for (const run of runs) {
    const axis = await runAxis(ctx, run, spec);
    for (const s of withRange) {
      if (s.experiment_id === run && axis)
        out.set(s, (await bucketOnAxis(ctx, s, axis, { ...range(s), budget: q.budget })).bucketed);
    }
  }
  return selected.map((s) => out.get(s) ?? collect(new Bucketer(0, 0, 1, 'continuous'), s, axisName(spec)));
}
