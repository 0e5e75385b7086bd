import type { AppContext, Caller } from '../../context.js';
import { badRequest, notFound } from '../../errors.js';
import { toWire, type WireNumber } from '../../lib/numbers.js';
import { iso } from '../../lib/schemas.js';
import { experimentForCaller } from '../experiments/experiments.service.js';
import { decode, type Points } from './blocks.js';
import { Bucketer } from './buckets.js';
import { decodeWindows } from './windows.js';
import * as repo from './metrics.repository.js';

export interface MetricSummary {
  name: string;
  count: number;
  firstStep: number;
  lastStep: number;
  lastValue: WireNumber;
  min: WireNumber | null;
  max: WireNumber | null;
  nanCount: number;
  updatedAt: string;
}

export const toSummary = (s: repo.SeriesRow): MetricSummary => ({
  name: s.name,
  count: s.point_count,
  firstStep: s.first_step,
  lastStep: s.last_step,
  lastValue: s.last_value === null ? 'NaN' : toWire(s.last_value),
  min: s.min_value === null ? null : toWire(s.min_value),
  max: s.max_value === null ? null : toWire(s.max_value),
  nanCount: s.nan_count,
  updatedAt: iso(s.updated_at)!,
});

export async function listMetrics(ctx: AppContext, caller: Caller, experimentId: string): Promise<MetricSummary[]> {
  await experimentForCaller(ctx, caller, experimentId, 'viewer');
  return (await repo.listSeries(ctx.db, experimentId)).map(toSummary);
}

async function seriesForCaller(ctx: AppContext, caller: Caller, experimentId: string, name: string): Promise<repo.SeriesRow> {
  await experimentForCaller(ctx, caller, experimentId, 'viewer');
  const series = await repo.findSeries(ctx.db, experimentId, name);
  if (!series) throw notFound('METRIC_NOT_FOUND', `Metric "${name}"`);
  return series;
}

export interface BucketedSeries {
  name: string;
  from: number;
  to: number;
  budget: number;
  /** Bucket k covers steps [bucketStart + k·bucketWidth, bucketStart + (k+1)·bucketWidth). */
  bucketStart: number;
  bucketWidth: number;
  /** Points inside [from, to]. */
  pointCount: number;
  summary: MetricSummary;
  /** Non-empty buckets only, as parallel arrays. min/max are null where a bucket holds only NaN. */
  buckets: {
    count: number[];
    firstStep: number[];
    firstValue: WireNumber[];
    lastStep: number[];
    lastValue: WireNumber[];
    minStep: (number | null)[];
    minValue: (WireNumber | null)[];
    maxStep: (number | null)[];
    maxValue: (WireNumber | null)[];
    nanCount: number[];
    firstNanStep: (number | null)[];
  };
}

const DATA_CHUNK = 500;

/** Reads one series downsampled to at most `budget` buckets over [from, to]. */
export async function readBuckets(
  ctx: AppContext,
  caller: Caller,
  experimentId: string,
  q: { name: string; from?: number; to?: number; budget: number },
): Promise<BucketedSeries> {
  const series = await seriesForCaller(ctx, caller, experimentId, q.name);
  return bucketSeries(ctx, series, q);
}

/**
 * The bucketing behind `readBuckets`, without the access check: for callers (compare,
 * analysis) that have already checked access to the series' experiment.
 */
export async function bucketSeries(
  ctx: AppContext,
  series: repo.SeriesRow,
  q: { from?: number; to?: number; budget: number },
): Promise<BucketedSeries> {
  const from = q.from ?? series.first_step;
  const to = q.to ?? series.last_step;
  if (to < from) throw badRequest('query.to must not be less than query.from', [{ path: 'query.to', message: 'less than from' }]);
  const b = new Bucketer(from, to, q.budget);
  const summaries = await repo.blockSummaries(ctx.db, series.id, from, to);
  const needData: number[] = [];
  // Blocks whose whole windows were merged from summaries: only their edge points get decoded.
  const windowed = new Set<number>();
  for (const block of summaries) {
    if (b.fitsOneBucket(block)) {
      b.addSummary(block);
    } else if (b.windowed && block.windows !== null) {
      b.addWindows(decodeWindows(block.windows));
      windowed.add(block.seq);
      if (block.step_min < b.fullFrom || block.step_max > b.fullTo) needData.push(block.seq);
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
      for (const row of rows) if (row.step_max >= from && row.step_min <= to) add(row);
      seq = rows[rows.length - 1]!.seq + 1;
    }
  } else {
    for (let i = 0; i < needData.length; i += DATA_CHUNK) {
      for (const row of await repo.blockData(ctx.db, series.id, needData.slice(i, i + DATA_CHUNK))) add(row);
    }
  }
  const out: BucketedSeries['buckets'] = {
    count: [],
    firstStep: [],
    firstValue: [],
    lastStep: [],
    lastValue: [],
    minStep: [],
    minValue: [],
    maxStep: [],
    maxValue: [],
    nanCount: [],
    firstNanStep: [],
  };
  let pointCount = 0;
  for (let k = 0; k < q.budget; k++) {
    const count = b.count[k]!;
    if (count === 0) continue;
    pointCount += count;
    const hasValue = !Number.isNaN(b.minStep[k]!);
    out.count.push(count);
    out.firstStep.push(b.firstStep[k]!);
    out.firstValue.push(toWire(b.firstValue[k]!));
    out.lastStep.push(b.lastStep[k]!);
    out.lastValue.push(toWire(b.lastValue[k]!));
    out.minStep.push(hasValue ? b.minStep[k]! : null);
    out.minValue.push(hasValue ? toWire(b.minValue[k]!) : null);
    out.maxStep.push(hasValue ? b.maxStep[k]! : null);
    out.maxValue.push(hasValue ? toWire(b.maxValue[k]!) : null);
    out.nanCount.push(b.nanCount[k]!);
    out.firstNanStep.push(b.nanCount[k]! > 0 ? b.firstNanStep[k]! : null);
  }
  return {
    name: series.name,
    from,
    to,
    budget: q.budget,
    bucketStart: b.start,
    bucketWidth: b.width,
    pointCount,
    summary: toSummary(series),
    buckets: out,
  };
}

export interface RawPoint {
  step: number;
  value: WireNumber;
  time: string;
  metadata: unknown;
}

function encodeCursor(seq: number, index: number): string {
  return Buffer.from(JSON.stringify([seq, index])).toString('base64url');
}

function decodeCursor(cursor: string | undefined): [number, number] {
  if (!cursor) return [0, 0];
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    // Bounded so a forged cursor cannot push block numbers past the databases' integer range.
    if (
      Array.isArray(v) &&
      v.length === 2 &&
      v.every((x) => Number.isInteger(x) && (x as number) >= 0 && (x as number) < 2 ** 31)
    ) {
      return v as [number, number];
    }
  } catch {
    // fall through
  }
  throw badRequest('query.cursor is not a cursor this server issued', [{ path: 'query.cursor', message: 'invalid cursor' }]);
}

/**
 * Raw points of a series in the order they were logged, optionally limited to a step range,
 * paged by an opaque cursor.
 */
export async function readRaw(
  ctx: AppContext,
  caller: Caller,
  experimentId: string,
  q: { name: string; from?: number; to?: number; limit: number; cursor?: string },
): Promise<{ name: string; points: RawPoint[]; nextCursor: string | null }> {
  const series = await seriesForCaller(ctx, caller, experimentId, q.name);
  const from = q.from ?? -Infinity;
  const to = q.to ?? Infinity;
  let [seq, index] = decodeCursor(q.cursor);
  const points: RawPoint[] = [];
  while (points.length < q.limit) {
    const rows = await repo.blocksFrom(ctx.db, series.id, seq, 64);
    if (rows.length === 0) return { name: series.name, points, nextCursor: null };
    for (const row of rows) {
      seq = row.seq;
      if (row.step_max < from || row.step_min > to) {
        index = 0;
        continue;
      }
      const p = decode(row.data, row.metadata);
      for (; index < p.values.length; index++) {
        if (points.length >= q.limit) return { name: series.name, points, nextCursor: encodeCursor(seq, index) };
        const step = p.steps[index]!;
        if (step < from || step > to) continue;
        points.push(rawPoint(p, index));
      }
      index = 0;
    }
    seq += 1;
  }
  return { name: series.name, points, nextCursor: encodeCursor(seq, index) };
}

function rawPoint(p: Points, i: number): RawPoint {
  const meta = p.metadata?.[i];
  return {
    step: p.steps[i]!,
    value: toWire(p.values[i]!),
    time: new Date(p.times[i]!).toISOString(),
    metadata: meta ? (JSON.parse(meta) as unknown) : null,
  };
}

function csvField(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Streams every point of an experiment (or of one metric) as CSV: name,step,value,time,metadata. */
export async function exportCsv(
  ctx: AppContext,
  caller: Caller,
  experimentId: string,
  name: string | undefined,
): Promise<AsyncGenerator<string>> {
  await experimentForCaller(ctx, caller, experimentId, 'viewer');
  const all = await repo.listSeries(ctx.db, experimentId);
  const selected = name === undefined ? all : all.filter((s) => s.name === name);
  if (name !== undefined && selected.length === 0) throw notFound('METRIC_NOT_FOUND', `Metric "${name}"`);
  return csvRows(ctx, selected);
}

async function* csvRows(ctx: AppContext, selected: readonly repo.SeriesRow[]): AsyncGenerator<string> {
  yield 'name,step,value,time,metadata\n';
  for (const series of selected) {
    const label = csvField(series.name);
    for (let seq = 0; ;) {
      const rows = await repo.blocksFrom(ctx.db, series.id, seq, 64);
      if (rows.length === 0) break;
      for (const row of rows) {
        const p = decode(row.data, row.metadata);
        let chunk = '';
        for (let i = 0; i < p.values.length; i++) {
          const meta = p.metadata?.[i];
          chunk += `${label},${p.steps[i]},${toWire(p.values[i]!)},${new Date(p.times[i]!).toISOString()},${meta ? csvField(meta) : ''}\n`;
        }
        yield chunk;
        seq = row.seq + 1;
      }
    }
  }
}
