import type { Static } from '@sinclair/typebox';
import type { AppContext, Caller } from '../../context.js';
import { badRequest } from '../../errors.js';
import { toWire } from '../../lib/numbers.js';
import { decode, type Points } from './blocks.js';
import { Bucketer } from './buckets.js';
import { seriesForCaller, toSummary } from './metrics.read.service.js';
import * as repo from './metrics.repository.js';
import type { BucketedSeries as BucketedSeriesSchema } from './metrics.schemas.js';
import { decodeWindows } from './windows.js';

/** One metric downsampled to buckets, in the wire form; the type comes from the route schema (metrics.schemas.ts). */
export type BucketedSeries = Static<typeof BucketedSeriesSchema>;

/** The figures of each non-empty bucket, one column each, in numbers. */
type BucketColumns = Record<keyof BucketedSeries['buckets'], Float64Array>;

/**
 * One metric downsampled to buckets, in numbers: what compare, analysis and MLflow read. In
 * `buckets`, NaN stands for "none": minStep/minValue/maxStep/maxValue of a bucket that holds only
 * NaN values, firstNanStep of one that holds none. `toBucketedSeries` makes the wire form.
 */
export interface Bucketed extends Omit<BucketedSeries, 'name' | 'summary' | 'buckets'> {
  series: repo.SeriesRow;
  buckets: BucketColumns;
}

/** Blocks (≤ 4,096 points, ~96 KB each) fetched per query: bounds a read's memory at ~3 MB of point data. */
const DATA_CHUNK = 32;

type BucketsQuery = { name: string; from?: number; to?: number; budget: number; x?: 'step' | 'time' };

/** Reads one series downsampled to at most `budget` buckets over [from, to], in numbers. */
export async function bucketsFor(ctx: AppContext, caller: Caller, experimentId: string, q: BucketsQuery): Promise<Bucketed> {
  const series = await seriesForCaller(ctx, caller, experimentId, q.name);
  return q.x === 'time' ? bucketSeriesByTime(ctx, series, q) : bucketSeries(ctx, series, q);
}

/** `bucketsFor` in the wire form: the answer of GET /experiments/{id}/metrics/series. */
export async function readBuckets(
  ctx: AppContext,
  caller: Caller,
  experimentId: string,
  q: BucketsQuery,
): Promise<BucketedSeries> {
  return toBucketedSeries(await bucketsFor(ctx, caller, experimentId, q));
}

/**
 * The bucketing behind `readBuckets`, without the access check: for callers (compare,
 * analysis) that have already checked access to the series' experiment.
 */
export async function bucketSeries(
  ctx: AppContext,
  series: repo.SeriesRow,
  q: { from?: number; to?: number; budget: number },
): Promise<Bucketed> {
  const from = q.from ?? series.first_step;
  const to = q.to ?? series.last_step;
  if (to < from) throw badRequest('query.to must not be less than query.from', [{ path: 'query.to', message: 'less than from' }]);
  const b = new Bucketer(from, to, q.budget);
  await fillFromBlocks(ctx, series, b);
  return collect(b, series, 'step');
}

/**
 * Adds the points of `series` inside the bucketer's step range: blocks within one bucket by their
 * summary, whole windows by theirs, the rest decoded. With `needSums` (band reads) a block without
 * stored window sums is decoded, so every bucket's `sum` is known.
 */
export async function fillFromBlocks(ctx: AppContext, series: repo.SeriesRow, b: Bucketer, needSums = false): Promise<void> {
  const summaries = await repo.blockSummaries(ctx.db, series.id, b.from, b.to);
  const needData: number[] = [];
  // Blocks whose mergeable windows were merged from summaries: only their other points get decoded.
  const windowed = new Set<number>();
  for (const block of summaries) {
    const sums = block.window_sums === null ? null : decodeWindows(block.window_sums);
    if (needSums && sums === null) {
      needData.push(block.seq);
    } else if (b.fitsOneBucket(block)) {
      b.addSummary(block, sums ? sums.reduce((a, v) => a + v, 0) : NaN);
    } else if (b.windowed && block.windows !== null) {
      if (!b.addWindows(decodeWindows(block.windows), sums)) needData.push(block.seq);
      windowed.add(block.seq);
    } else {
      needData.push(block.seq);
    }
  }
  const add = (row: { seq: number; data: Uint8Array }): void => b.addPoints(decode(row.data, null), windowed.has(row.seq));
  if (needData.length === summaries.length && needData.length > 0) {
    // Every block needs its points: one range scan beats a long IN list.
    for (let seq = needData[0]!; seq <= needData[needData.length - 1]!;) {
      const rows = await repo.blocksFrom(ctx.db, series.id, seq, DATA_CHUNK);
      if (rows.length === 0) break;
      for (const row of rows) if (row.step_max >= b.from && row.step_min <= b.to) add(row);
      seq = rows[rows.length - 1]!.seq + 1;
    }
  } else {
    for (let i = 0; i < needData.length; i += DATA_CHUNK) {
      for (const row of await repo.blockData(ctx.db, series.id, needData.slice(i, i + DATA_CHUNK))) add(row);
    }
  }
}

const FIELDS = [
  'count',
  'firstStep',
  'firstValue',
  'lastStep',
  'lastValue',
  'minStep',
  'minValue',
  'maxStep',
  'maxValue',
  'nanCount',
  'firstNanStep',
] as const satisfies readonly (keyof BucketColumns)[];

/** The non-empty buckets of `b`, NaN where a bucket has no such figure. */
export function collect(b: Bucketer, series: repo.SeriesRow, x: BucketedSeries['x']): Bucketed {
  const kept: number[] = [];
  let pointCount = 0;
  for (let k = 0; k < b.budget; k++) {
    if (b.count[k] === 0) continue;
    kept.push(k);
    pointCount += b.count[k]!;
  }
  const buckets = Object.fromEntries(FIELDS.map((f) => [f, Float64Array.from(kept, (k) => b[f][k]!)])) as BucketColumns;
  kept.forEach((k, i) => {
    // A bucket of NaNs only keeps the bucketer's starting extremes (±Infinity): none.
    if (Number.isNaN(b.minStep[k]!)) buckets.minValue[i] = buckets.maxValue[i] = buckets.maxStep[i] = NaN;
    if (b.nanCount[k] === 0) buckets.firstNanStep[i] = NaN;
  });
  return { series, x, from: b.from, to: b.to, budget: b.budget, bucketStart: b.start, bucketWidth: b.width, pointCount, buckets };
}

/** The wire form of a bucketed read: numbers that JSON cannot hold as strings, null for "none". */
export function toBucketedSeries(r: Bucketed): BucketedSeries {
  const c = r.buckets;
  const out: BucketedSeries['buckets'] = {
    count: Array.from(c.count),
    firstStep: Array.from(c.firstStep),
    firstValue: Array.from(c.firstValue, toWire),
    lastStep: Array.from(c.lastStep),
    lastValue: Array.from(c.lastValue, toWire),
    minStep: [],
    minValue: [],
    maxStep: [],
    maxValue: [],
    nanCount: Array.from(c.nanCount),
    firstNanStep: [],
  };
  for (let i = 0; i < c.count.length; i++) {
    const hasValue = !Number.isNaN(c.minStep[i]!);
    out.minStep.push(hasValue ? c.minStep[i]! : null);
    out.minValue.push(hasValue ? toWire(c.minValue[i]!) : null);
    out.maxStep.push(hasValue ? c.maxStep[i]! : null);
    out.maxValue.push(hasValue ? toWire(c.maxValue[i]!) : null);
    out.firstNanStep.push(c.nanCount[i]! > 0 ? c.firstNanStep[i]! : null);
  }
  return {
    name: r.series.name,
    x: r.x,
    from: r.from,
    to: r.to,
    budget: r.budget,
    bucketStart: r.bucketStart,
    bucketWidth: r.bucketWidth,
    pointCount: r.pointCount,
    ...(r.xPoints ? { xPoints: true } : {}),
    summary: toSummary(r.series),
    buckets: out,
  };
}

/** Calls `fn` with the points of each block in append order, holding DATA_CHUNK blocks at a time. */
export async function forEachBlock(ctx: AppContext, series: repo.SeriesRow, fn: (p: Points) => void): Promise<void> {
  for (let seq = 0; ;) {
    const rows = await repo.blocksFrom(ctx.db, series.id, seq, DATA_CHUNK);
    if (rows.length === 0) break;
    for (const row of rows) fn(decode(row.data, null));
    seq = rows[rows.length - 1]!.seq + 1;
  }
}

/** `forEachBlock` with wall time as x (as `toX(time)` when given): the bucketer reads `steps` as its x. */
export function forEachTimeBlock(
  ctx: AppContext,
  series: repo.SeriesRow,
  fn: (p: Points) => void,
  toX?: (time: number) => number,
): Promise<void> {
  return forEachBlock(ctx, series, (p) =>
    fn({ steps: toX ? p.times.map(toX) : p.times, values: p.values, times: p.times, metadata: null }),
  );
}

/**
 * The wall-time range of a series (of `toX(time)` when given). Block summaries are by step, so this is a pass over the points;
 * a second pass buckets them. Two streaming passes instead of one over every point held in memory
 * (4·10⁶ points were ~90 MB) keep a request's memory at a few blocks.
 */
export async function timeRange(
  ctx: AppContext,
  series: repo.SeriesRow,
  toX?: (time: number) => number,
): Promise<{ from: number; to: number }> {
  let from = Infinity;
  let to = -Infinity;
  await forEachTimeBlock(
    ctx,
    series,
    (p) => {
      for (const t of p.steps) {
        if (t < from) from = t;
        if (t > to) to = t;
      }
    },
    toX,
  );
  return { from, to };
}

/**
 * Buckets by wall time (epoch ms) instead of step. Every point is decoded (once more to find the
 * range unless both ends are given), so slower than step reads on 10^6 points; memory stays bounded.
 */
export async function bucketSeriesByTime(
  ctx: AppContext,
  series: repo.SeriesRow,
  q: { from?: number; to?: number; budget: number },
): Promise<Bucketed> {
  const own = q.from !== undefined && q.to !== undefined ? null : await timeRange(ctx, series);
  const from = q.from ?? own!.from;
  const to = q.to ?? own!.to;
  if (to < from) throw badRequest('query.to must not be less than query.from', [{ path: 'query.to', message: 'less than from' }]);
  const b = new Bucketer(from, to, q.budget, 'points');
  await forEachTimeBlock(ctx, series, (p) => b.addPoints(p));
  return collect(b, series, 'time');
}
