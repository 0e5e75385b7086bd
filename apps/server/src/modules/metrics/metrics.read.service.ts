import type { Static } from '@sinclair/typebox';
import type { AppContext, Caller } from '../../context.js';
import { badRequest, notFound } from '../../errors.js';
import { toWire } from '../../lib/numbers.js';
import { iso } from '../../lib/schemas.js';
import { experimentForCaller } from '../experiments/experiments.service.js';
import { decode, type Points } from './blocks.js';
import * as repo from './metrics.repository.js';
import type { MetricSummary as MetricSummarySchema, RawPoint as RawPointSchema } from './metrics.schemas.js';

export type MetricSummary = Static<typeof MetricSummarySchema>;

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

export async function seriesForCaller(
  ctx: AppContext,
  caller: Caller,
  experimentId: string,
  name: string,
): Promise<repo.SeriesRow> {
  await experimentForCaller(ctx, caller, experimentId, 'viewer');
  const series = await repo.findSeries(ctx.db, experimentId, name);
  if (!series) throw notFound('METRIC_NOT_FOUND', `Metric "${name}"`);
  return series;
}

/**
 * The experiment's series of this name; undefined when it has none. Access is the caller's check
 * (MLflow's, which also reads runs deleted through MLflow).
 */
export function findSeries(ctx: AppContext, experimentId: string, name: string): Promise<repo.SeriesRow | undefined> {
  return repo.findSeries(ctx.db, experimentId, name);
}

/** Every non-empty series of these experiments, by name (MLflow's runs' latest metrics); access is the caller's check. */
export function seriesOfExperiments(ctx: AppContext, experimentIds: readonly string[]): Promise<repo.SeriesRow[]> {
  return repo.seriesOf(ctx.db, experimentIds, null);
}

export type RawPoint = Static<typeof RawPointSchema>;

/**
 * A stored time as ISO-8601, or null when no Date can hold it: servers before 0.1 let times
 * beyond ±8.64e15 ms in, and a read must still answer for the rest of the series.
 */
export function isoTime(ms: number): string | null {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : null;
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
 * Visits one page of a series' raw points in the order they were logged, optionally limited to a
 * step range, from an opaque cursor: `visit` gets each point as its block's columns and index.
 * Returns the cursor of the next page, or null at the end. No access check: for callers that made it.
 */
export async function rawPage(
  ctx: AppContext,
  series: repo.SeriesRow,
  q: { from?: number; to?: number; limit: number; cursor?: string },
  visit: (p: Points, i: number) => void,
): Promise<string | null> {
  const from = q.from ?? -Infinity;
  const to = q.to ?? Infinity;
  let [seq, index] = decodeCursor(q.cursor);
  let taken = 0;
  while (taken < q.limit) {
    const rows = await repo.blocksFrom(ctx.db, series.id, seq, 64);
    if (rows.length === 0) return null;
    for (const row of rows) {
      seq = row.seq;
      if (row.step_max < from || row.step_min > to) {
        index = 0;
        continue;
      }
      const p = decode(row.data, row.metadata);
      for (; index < p.values.length; index++) {
        if (taken >= q.limit) return encodeCursor(seq, index);
        const step = p.steps[index]!;
        if (step < from || step > to) continue;
        visit(p, index);
        taken++;
      }
      index = 0;
    }
    seq += 1;
  }
  return encodeCursor(seq, index);
}

/** Raw points of a series in the order they were logged (see `rawPage`), in the wire form. */
export async function readRaw(
  ctx: AppContext,
  caller: Caller,
  experimentId: string,
  q: { name: string; from?: number; to?: number; limit: number; cursor?: string },
): Promise<{ name: string; points: RawPoint[]; nextCursor: string | null }> {
  const series = await seriesForCaller(ctx, caller, experimentId, q.name);
  const points: RawPoint[] = [];
  const nextCursor = await rawPage(ctx, series, q, (p, i) => points.push(rawPoint(p, i)));
  return { name: series.name, points, nextCursor };
}

function rawPoint(p: Points, i: number): RawPoint {
  const meta = p.metadata?.[i];
  return {
    step: p.steps[i]!,
    value: toWire(p.values[i]!),
    time: isoTime(p.times[i]!),
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
      // A few blocks at a time: the CSV streams out as it is read, whatever the experiment's size.
      const rows = await repo.blocksFrom(ctx.db, series.id, seq, 16);
      if (rows.length === 0) break;
      for (const row of rows) {
        const p = decode(row.data, row.metadata);
        let chunk = '';
        for (let i = 0; i < p.values.length; i++) {
          const meta = p.metadata?.[i];
          chunk += `${label},${p.steps[i]},${toWire(p.values[i]!)},${isoTime(p.times[i]!) ?? ''},${meta ? csvField(meta) : ''}\n`;
        }
        yield chunk;
        seq = row.seq + 1;
      }
    }
  }
}
