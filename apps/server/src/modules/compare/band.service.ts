import type { Static } from '@sinclair/typebox';
import type { AppContext, Caller } from '../../context.js';
import { badRequest } from '../../errors.js';
import { toWire } from '../../lib/numbers.js';
import type { Bucketer } from '../metrics/buckets.js';
import {
  axisName,
  axisRange,
  bucketOnAxis,
  parseAxis,
  runAxis,
  type AxisSpec,
  type RunAxis,
} from '../metrics/metrics.axes.service.js';
import { seriesOf, type SeriesRow } from '../metrics/metrics.repository.js';
import type { BandResponse } from './band.schemas.js';
import { readableExperiments } from './compare.service.js';

export type Band = Static<typeof BandResponse>;

export interface BandQuery {
  experimentIds: readonly string[];
  name: string;
  x?: string;
  budget: number;
  from?: number;
  to?: number;
}

/** Step reads of this many runs at once: PostgreSQL answers them in parallel; memory per read is a few blocks. */
const PARALLEL_STEP_READS = 8;

/**
 * Mean ± spread of one metric across runs, per bucket of x: each run contributes the mean of its
 * non-NaN points in the bucket (from window sums, so 10⁶-point runs are not decoded); across the
 * runs that contributed, mean, population std, stderr = std/√n, min, max and median. NaN is
 * counted per run (`nanRuns`), never averaged. Every id must be readable (else 404, as compare).
 *
 * @example
 *   await readBand(ctx, caller, { experimentIds: [a, b, c], name: 'loss', budget: 1000 });
 */
export async function readBand(ctx: AppContext, caller: Caller, q: BandQuery): Promise<Band> {
  const ids = [...new Set(q.experimentIds)];
  if (q.from !== undefined && q.to !== undefined && q.to < q.from) {
    throw badRequest('to must not be less than from', [{ path: 'to', message: 'less than from' }]);
  }
  await readableExperiments(ctx, caller, ids);
  const spec = parseAxis(q.x);
  const series = await seriesOf(ctx.db, ids, [q.name]);
  const byRun = new Map(series.map((s) => [s.experiment_id, s]));
  const runs = ids.filter((id) => byRun.has(id)).map((id) => byRun.get(id)!);

  const bucketers: Bucketer[] = [];
  const used: string[] = [];
  let grid = { from: 0, to: 0, start: 0, width: 1 };
  if (spec.kind === 'step') {
    const from = q.from ?? Math.min(...runs.map((s) => s.first_step));
    const to = Math.max(q.to ?? Math.max(...runs.map((s) => s.last_step)), from);
    for (let i = 0; i < runs.length; i += PARALLEL_STEP_READS) {
      const part = runs.slice(i, i + PARALLEL_STEP_READS);
      const read = await Promise.all(part.map((s) => bucketOnAxis(ctx, s, spec, { from, to, budget: q.budget }, true)));
      read.forEach((r, j) => {
        bucketers.push(r.bucketer);
        used.push(part[j]!.experiment_id);
      });
    }
    if (bucketers.length > 0) grid = { from, to, start: bucketers[0]!.start, width: bucketers[0]!.width };
  } else {
    const axes = await axesAndRanges(ctx, runs, spec);
    const from = q.from ?? Math.min(...axes.map((a) => a.range.from));
    const to = Math.max(q.to ?? Math.max(...axes.map((a) => a.range.to)), from);
    for (const a of axes) {
      // One run's x metric at a time in memory: read it again rather than hold 500 of them.
      const axis = spec.kind === 'metric' ? await runAxis(ctx, a.series.experiment_id, spec) : a.axis;
      const r = await bucketOnAxis(ctx, a.series, axis!, { from, to, budget: q.budget }, true);
      bucketers.push(r.bucketer);
      used.push(a.series.experiment_id);
      grid = { from, to, start: r.bucketed.bucketStart, width: r.bucketed.bucketWidth };
    }
  }
  return { name: q.name, x: axisName(spec), budget: q.budget, ...acrossRuns(bucketers, q.budget, grid), experiments: used };
}

/** Each run's axis (null: the run lacks the x metric, and is left out) and the range its series covers on it. */
async function axesAndRanges(
  ctx: AppContext,
  runs: readonly SeriesRow[],
  spec: Exclude<AxisSpec, { kind: 'step' }>,
): Promise<{ series: SeriesRow; axis: RunAxis | null; range: { from: number; to: number } }[]> {
  const out = [];
  for (const s of runs) {
    const axis = await runAxis(ctx, s.experiment_id, spec);
    const range = axis && (await axisRange(ctx, s, axis));
    // A metric axis is read again when bucketing (see readBand): drop its points now.
    if (range) out.push({ series: s, axis: spec.kind === 'metric' ? null : axis, range });
  }
  return out;
}

type Figures = Omit<Band, 'name' | 'x' | 'budget' | 'experiments'>;

function acrossRuns(
  bucketers: readonly Bucketer[],
  budget: number,
  grid: { from: number; to: number; start: number; width: number },
): Figures {
  const out: Figures = {
    from: grid.from,
    to: grid.to,
    bucketStart: grid.start,
    bucketWidth: grid.width,
    bucket: [],
    n: [],
    mean: [],
    std: [],
    stderr: [],
    min: [],
    max: [],
    median: [],
    nanRuns: [],
  };
  const values = new Float64Array(bucketers.length);
  const none = (v: number): Band['mean'][number] => (Number.isNaN(v) ? null : toWire(v));
  for (let k = 0; k < budget; k++) {
    let n = 0;
    let nanRuns = 0;
    for (const b of bucketers) {
      const count = b.count[k]!;
      if (count === 0) continue;
      const nans = b.nanCount[k]!;
      if (nans > 0) nanRuns++;
      if (count > nans) values[n++] = b.sum[k]! / (count - nans);
    }
    if (n === 0 && nanRuns === 0) continue;
    const v = values.subarray(0, n).sort();
    let sum = 0;
    for (const x of v) sum += x;
    const mean = n > 0 ? sum / n : NaN;
    let sq = 0;
    for (const x of v) sq += (x - mean) * (x - mean);
    const std = n > 0 ? Math.sqrt(sq / n) : NaN;
    const median = n === 0 ? NaN : n % 2 === 1 ? v[(n - 1) / 2]! : (v[n / 2 - 1]! + v[n / 2]!) / 2;
    out.bucket.push(k);
    out.n.push(n);
    out.nanRuns.push(nanRuns);
    out.mean.push(none(mean));
    out.std.push(none(std));
    out.stderr.push(none(std / Math.sqrt(n)));
    out.min.push(none(n > 0 ? v[0]! : NaN));
    out.max.push(none(n > 0 ? v[n - 1]! : NaN));
    out.median.push(none(median));
  }
  return out;
}
