import type { AppContext, Caller } from '../../context.js';
import { badRequest, notFound } from '../../errors.js';
import { decode } from './blocks.js';
import { Bucketer, StepRangeBucketer } from './buckets.js';
import {
  collect,
  fillFromBlocks,
  forEachBlock,
  forEachTimeBlock,
  readBuckets,
  timeRange,
  toBucketedSeries,
  type Bucketed,
  type BucketedSeries,
} from './metrics.buckets.service.js';
import { seriesForCaller } from './metrics.read.service.js';
import * as repo from './metrics.repository.js';
import { WINDOWS_PER_BUCKET, lowerBound, windowEdges, windowsIn, xAtStep, xRange, xWindows, type XWindows } from './x-windows.js';

/**
 * Reads on any x-axis: the step, wall time, seconds since the run's first point, or another metric
 * logged at the same steps (`metric:epoch`, `metric:tokens`). One run's view of an axis is a
 * `RunAxis`; `bucketOnAxis` buckets one of its series on it, in the axis' units.
 */
export type AxisSpec = { kind: 'step' } | { kind: 'time' } | { kind: 'relative' } | { kind: 'metric'; name: string };

export const METRIC_AXIS_PREFIX = 'metric:';

export function parseAxis(x: string | undefined): AxisSpec {
  if (x === undefined || x === 'step') return { kind: 'step' };
  if (x === 'time' || x === 'relative') return { kind: x };
  if (x.startsWith(METRIC_AXIS_PREFIX) && x.length > METRIC_AXIS_PREFIX.length) {
    return { kind: 'metric', name: x.slice(METRIC_AXIS_PREFIX.length) };
  }
  throw badRequest('x must be step, time, relative or metric:<name>', [{ path: 'x', message: 'unknown axis' }]);
}

export const axisName = (a: AxisSpec): string => (a.kind === 'metric' ? METRIC_AXIS_PREFIX + a.name : a.kind);

/**
 * An x metric of one run, its points sorted by step. `monotone`: steps strictly increasing and x
 * non-decreasing with no NaN, so x maps buckets to step ranges; otherwise points are joined on step.
 */
interface XMetric {
  steps: Float64Array;
  xs: Float64Array;
  monotone: boolean;
}

/** An x metric of one run as its block and window summaries tell it, without decoding its points. */
interface XMetricAxis {
  kind: 'metric';
  name: string;
  /** The smallest and largest x (non-NaN), from the blocks' summaries; null when every x is NaN. */
  range: { from: number; to: number } | null;
  /** The x metric's 64-step windows in step order, when every window's x lies at or above the one before's. */
  windows: XWindows | null;
  /** The points themselves, decoded on first use (16 bytes a point) and kept for the rest of the read. */
  points: () => Promise<XMetric>;
}

/** What one run needs to bucket its series on an axis. */
export type RunAxis = { kind: 'step' | 'time' } | { kind: 'relative'; origin: number } | XMetricAxis;

/**
 * One run's view of `spec`, or null when the run lacks the x metric. Reads the x metric's block
 * summaries (its points only when a read needs them), or for `relative` the first block of each of
 * the run's series.
 */
export async function runAxis(ctx: AppContext, experimentId: string, spec: AxisSpec): Promise<RunAxis | null> {
  if (spec.kind === 'step' || spec.kind === 'time') return spec;
  if (spec.kind === 'relative') {
    let origin = Infinity;
    for (const row of await repo.firstBlocksOf(ctx.db, experimentId)) {
      for (const t of decode(row.data, null).times) if (t < origin) origin = t;
    }
    return { kind: 'relative', origin: Number.isFinite(origin) ? origin : 0 };
  }
  const series = await repo.findSeries(ctx.db, experimentId, spec.name);
  if (!series) return null;
  const blocks = await repo.blockSummaries(ctx.db, series.id, -Infinity, Infinity);
  let points: Promise<XMetric> | null = null;
  return {
    kind: 'metric',
    name: spec.name,
    range: xRange(blocks),
    windows: xWindows(blocks),
    points: () => (points ??= readXMetric(ctx, series)),
  };
}

async function readXMetric(ctx: AppContext, series: repo.SeriesRow): Promise<XMetric> {
  let steps: Float64Array = new Float64Array(series.point_count);
  let xs: Float64Array = new Float64Array(series.point_count);
  let n = 0;
  for (let seq = 0; ;) {
    const rows = await repo.blocksFrom(ctx.db, series.id, seq, 32);
    if (rows.length === 0) break;
    for (const row of rows) {
      const p = decode(row.data, null);
      if (n + p.steps.length > steps.length) {
        // The summary's count lagged a concurrent append: grow.
        const grow = (a: Float64Array): Float64Array => {
          const b = new Float64Array((n + p.steps.length) * 2);
          b.set(a.subarray(0, n));
          return b;
        };
        steps = grow(steps);
        xs = grow(xs);
      }
      steps.set(p.steps, n);
      xs.set(p.values, n);
      n += p.steps.length;
    }
    seq = rows[rows.length - 1]!.seq + 1;
  }
  steps = steps.subarray(0, n);
  xs = xs.subarray(0, n);
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) sorted = steps[i]! > steps[i - 1]!;
  if (!sorted) {
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => steps[a]! - steps[b]! || a - b);
    steps = Float64Array.from(order, (i) => steps[i]!);
    xs = Float64Array.from(order, (i) => xs[i]!);
  }
  let monotone = true;
  for (let i = 0; i < n && monotone; i++) {
    monotone = xs[i] === xs[i] && (i === 0 || (xs[i]! >= xs[i - 1]! && steps[i]! > steps[i - 1]!));
  }
  return { steps, xs, monotone };
}

const relativeX = (origin: number) => (t: number) => (t - origin) / 1000;

/** The x range a series covers on a run's axis, or null when it has no point there. */
export async function axisRange(
  ctx: AppContext,
  series: repo.SeriesRow,
  axis: RunAxis,
): Promise<{ from: number; to: number } | null> {
  switch (axis.kind) {
    case 'step':
      return { from: series.first_step, to: series.last_step };
    case 'time':
      return timeRange(ctx, series);
    case 'relative':
      return timeRange(ctx, series, relativeX(axis.origin));
    case 'metric':
      return axis.range;
  }
}

/**
 * Buckets one series of a run on its axis over [from, to] (in the axis' units) and returns the
 * bucketer (indexed by bucket, for band reads) and its wire-ready `Bucketed`. With `needSums`
 * every bucket's `sum` of non-NaN values is exact (band reads).
 */
export async function bucketOnAxis(
  ctx: AppContext,
  series: repo.SeriesRow,
  axis: RunAxis,
  q: { from: number; to: number; budget: number },
  needSums = false,
): Promise<{ bucketer: Bucketer; bucketed: Bucketed }> {
  if (q.to < q.from) throw badRequest('to must not be less than from', [{ path: 'to', message: 'less than from' }]);
  switch (axis.kind) {
    case 'step': {
      const b = new Bucketer(q.from, q.to, q.budget);
      await fillFromBlocks(ctx, series, b, needSums);
      return { bucketer: b, bucketed: collect(b, series, 'step') };
    }
    case 'time':
    case 'relative': {
      const b = new Bucketer(q.from, q.to, q.budget, axis.kind === 'time' ? 'points' : 'continuous');
      const toX = axis.kind === 'relative' ? relativeX(axis.origin) : undefined;
      await forEachTimeBlock(ctx, series, (p) => b.addPoints(p), toX);
      return { bucketer: b, bucketed: collect(b, series, axis.kind) };
    }
    case 'metric': {
      if (axis.windows && windowsIn(axis.windows, q) >= WINDOWS_PER_BUCKET * q.budget) {
        return byMetricWindows(ctx, series, axis.windows, axisName(axis), q, needSums);
      }
      const x = await axis.points();
      return x.monotone
        ? byMetricRanges(ctx, series, x, axisName(axis), q, needSums)
        : byMetricPoints(ctx, series, x, axisName(axis), q);
    }
  }
}

/**
 * A windowed x metric (see x-windows.ts): buckets are whole 64-step windows, each in the bucket
 * of its first x, so the y metric merges its window summaries and no point is decoded. A bucket's
 * values and extremes are exact; a point sits in its window's bucket (an edge is off by less than
 * one window, at most 1/WINDOWS_PER_BUCKET of a bucket), and the x given for its first, last, min
 * and max is interpolated inside the window (exact at the window's first and last logged step).
 */
async function byMetricWindows(
  ctx: AppContext,
  series: repo.SeriesRow,
  w: XWindows,
  name: string,
  q: { from: number; to: number; budget: number },
  needSums: boolean,
): Promise<{ bucketer: Bucketer; bucketed: Bucketed }> {
  const edges = windowEdges(w, q);
  const b = new StepRangeBucketer(edges);
  if (edges[0]! < edges[q.budget]!) await fillFromBlocks(ctx, series, b, needSums);
  const bucketed = collect(b, series, name);
  const c = bucketed.buckets;
  for (const f of [c.firstStep, c.lastStep, c.minStep, c.maxStep, c.firstNanStep]) {
    for (let i = 0; i < f.length; i++) if (!Number.isNaN(f[i]!)) f[i] = xAtStep(w, f[i]!);
  }
  Object.assign(bucketed, { from: q.from, to: q.to, bucketStart: q.from, bucketWidth: (q.to - q.from) / q.budget || 1 });
  return { bucketer: b, bucketed };
}

/**
 * A non-decreasing x metric: each equal-width x bucket is the step range where x falls in it
 * (a point at step s has the x of the last x point at or before s), read through the blocks and
 * window summaries as a step read is; then every *Step figure is given as its x.
 */
async function byMetricRanges(
  ctx: AppContext,
  series: repo.SeriesRow,
  x: XMetric,
  name: string,
  q: { from: number; to: number; budget: number },
  needSums: boolean,
): Promise<{ bucketer: Bucketer; bucketed: Bucketed }> {
  const { steps, xs } = x;
  const width = (q.to - q.from) / q.budget || 1;
  const after = (i: number): number => (i < steps.length ? steps[i]! : steps[steps.length - 1]! + 1);
  const end = after(lowerBound(xs, q.to, true));
  const edges = new Float64Array(q.budget + 1);
  for (let k = 0; k < q.budget; k++) edges[k] = Math.min(after(lowerBound(xs, q.from + k * width)), end);
  edges[q.budget] = end;
  const b = new StepRangeBucketer(edges);
  if (steps.length > 0 && edges[0]! < end) await fillFromBlocks(ctx, series, b, needSums);
  const bucketed = collect(b, series, name);
  const xAt = (step: number): number => xs[lowerBound(steps, step, true) - 1] ?? NaN;
  const c = bucketed.buckets;
  for (const f of [c.firstStep, c.lastStep, c.minStep, c.maxStep, c.firstNanStep]) {
    for (let i = 0; i < f.length; i++) if (!Number.isNaN(f[i]!)) f[i] = xAt(f[i]!);
  }
  Object.assign(bucketed, { from: q.from, to: q.to, bucketStart: q.from, bucketWidth: width });
  return { bucketer: b, bucketed };
}

/**
 * Any other x metric: each point is paired with the x logged at the same step (points without
 * one are left out) and bucketed by that x, so the answer is a cloud of points (`xPoints`), not a line.
 */
async function byMetricPoints(
  ctx: AppContext,
  series: repo.SeriesRow,
  x: XMetric,
  name: string,
  q: { from: number; to: number; budget: number },
): Promise<{ bucketer: Bucketer; bucketed: Bucketed }> {
  const { steps, xs } = x;
  const b = new Bucketer(q.from, q.to, q.budget, 'continuous');
  await forEachBlock(ctx, series, (p) => {
    const x = new Float64Array(p.steps.length);
    for (let i = 0; i < x.length; i++) {
      const j = lowerBound(steps, p.steps[i]!);
      // NaN x (or none at this step) fails every range check in addPoints: the point is left out.
      x[i] = steps[j] === p.steps[i] ? xs[j]! : NaN;
    }
    b.addPoints({ steps: x, values: p.values, times: p.times, metadata: null });
  });
  return { bucketer: b, bucketed: { ...collect(b, series, name), xPoints: true } };
}

/**
 * One metric of an experiment on any axis over [from, to] (default: its own range on that axis),
 * in the wire form: the answer of GET /experiments/{id}/metrics/series.
 */
export async function readSeriesOnAxis(
  ctx: AppContext,
  caller: Caller,
  experimentId: string,
  q: { name: string; x?: string; from?: number; to?: number; budget: number },
): Promise<BucketedSeries> {
  const spec = parseAxis(q.x);
  if (spec.kind === 'step' || spec.kind === 'time') return readBuckets(ctx, caller, experimentId, { ...q, x: spec.kind });
  const series = await seriesForCaller(ctx, caller, experimentId, q.name);
  const axis = await runAxis(ctx, experimentId, spec);
  if (!axis) throw notFound('METRIC_NOT_FOUND', `Metric "${axisName(spec).slice(METRIC_AXIS_PREFIX.length)}" (the x-axis)`);
  const own = q.from !== undefined && q.to !== undefined ? null : await axisRange(ctx, series, axis);
  const from = q.from ?? own?.from ?? 0;
  const to = q.to ?? Math.max(own?.to ?? from, from);
  return toBucketedSeries((await bucketOnAxis(ctx, series, axis, { from, to, budget: q.budget })).bucketed);
}
