import type { AppContext, Caller } from '../../context.js';
import { MLFLOW_LIMITS } from '../../lib/limits.js';
import { toWire } from '../../lib/numbers.js';
import { bucketSeries } from '../metrics/metrics.buckets.service.js';
import { findSeries, isoTime, rawPage } from '../metrics/metrics.read.service.js';
import type { SeriesRow } from '../metrics/metrics.repository.js';
import { invalidParameter } from './mlflow.errors.js';
import { runForCaller } from './mlflow.runs.service.js';

const MAX_RUNS = MLFLOW_LIMITS.intervalRuns;

type IntervalQuery = { runIds: string[]; key: string; startStep?: number; endStep?: number; maxResults: number };
type IntervalMetric = { run_id: string; key: string; value: number | string; timestamp: number; step: number };

/** A point's time as MLflow's `timestamp`: whole milliseconds, 0 for a time no Date holds. */
export function mlflowTimestamp(time: number): number {
  return isoTime(time) === null ? 0 : Math.trunc(time) + 0;
}

/**
 * `metrics/get-history-bulk-interval`: up to `maxResults` sampled steps per run over a step range,
 * for charts. Runs whose series hold at most `intervalExactPoints` points together are sampled as
 * MLflow samples them (`exactInterval`); larger ones from Tora's bucketed read (`bucketedInterval`),
 * which reads window summaries instead of every point.
 */
export async function bulkInterval(ctx: AppContext, caller: Caller, q: IntervalQuery): Promise<{ metrics: IntervalMetric[] }> {
  if (q.runIds.length === 0) throw invalidParameter("Missing value for required parameter 'run_ids'.");
  if (q.runIds.length > MAX_RUNS) {
    throw invalidParameter(
      `GetMetricHistoryBulkInterval request must specify at most ${MAX_RUNS} run_ids. Received ${q.runIds.length} run_ids.`,
    );
  }
  // As MLflow: a step range is both ends or neither, and may be a single step.
  if ((q.startStep === undefined) !== (q.endStep === undefined)) {
    throw invalidParameter('If either start step or end step are specified, both must be specified.');
  }
  if (q.startStep !== undefined && q.endStep !== undefined && q.startStep > q.endStep) {
    throw invalidParameter(
      `end_step must be greater than start_step. Found start_step=${q.startStep} and end_step=${q.endStep}.`,
    );
  }
  const runs: { runId: string; series: SeriesRow }[] = [];
  for (const runId of q.runIds) {
    await runForCaller(ctx, caller, runId, 'viewer');
    // Access was checked the MLflow way (a run deleted through MLflow still answers).
    const series = await findSeries(ctx, runId, q.key);
    if (series && series.point_count > 0) runs.push({ runId, series });
  }
  const points = runs.reduce((sum, r) => sum + r.series.point_count, 0);
  const metrics =
    points <= MLFLOW_LIMITS.intervalExactPoints ? await exactInterval(ctx, q, runs) : await bucketedInterval(ctx, q, runs);
  return { metrics };
}

/**
 * MLflow's sampling, on every point: the distinct steps of all the runs in the range (by default
 * from the lowest step, where MLflow starts at 0: a negative step stays in the chart, the only
 * difference), `maxResults` of them evenly by index plus the range's last, plus each run's first and
 * last step where they fall in the range; then every point of each run at those steps, in request order, by step,
 * time and value.
 */
async function exactInterval(
  ctx: AppContext,
  q: IntervalQuery,
  runs: { runId: string; series: SeriesRow }[],
): Promise<IntervalMetric[]> {
  const histories: { runId: string; steps: number[]; values: number[]; times: number[] }[] = [];
  for (const { runId, series } of runs) {
    const h = { runId, steps: [] as number[], values: [] as number[], times: [] as number[] };
    await rawPage(ctx, series, { limit: series.point_count }, (p, i) => {
      h.steps.push(p.steps[i]!);
      h.values.push(p.values[i]!);
      h.times.push(p.times[i]!);
    });
    histories.push(h);
  }
  const all = [...new Set(histories.flatMap((h) => h.steps))].sort((a, b) => a - b);
  if (all.length === 0) return [];
  const start = q.startStep ?? Math.min(0, all[0]!);
  const end = q.endStep ?? all.at(-1)!;
  const inRange = (s: number) => s >= start && s <= end;
  const chosen = new Set(sampleSteps(all.filter(inRange), q.maxResults));
  for (const h of histories) {
    // Each run's first and last step (of all its points, as MLflow) where they fall in the range.
    const first = h.steps.reduce((a, b) => Math.min(a, b));
    const last = h.steps.reduce((a, b) => Math.max(a, b));
    for (const s of [first, last]) if (inRange(s)) chosen.add(s);
  }
  const out: IntervalMetric[] = [];
  for (const h of histories) {
    const picked = h.steps.flatMap((step, i) => (chosen.has(step) ? [i] : []));
    picked.sort((a, b) => h.steps[a]! - h.steps[b]! || h.times[a]! - h.times[b]! || h.values[a]! - h.values[b]!);
    for (const i of picked.slice(0, MLFLOW_LIMITS.intervalPointsPerRun)) {
      out.push({
        run_id: h.runId,
        key: q.key,
        value: toWire(h.values[i]!),
        timestamp: mlflowTimestamp(h.times[i]!),
        step: h.steps[i]!,
      });
    }
  }
  return out;
}

/** `max` of the sorted distinct `steps` at evenly spaced indexes, and the last: MLflow's rule. */
function sampleSteps(steps: readonly number[], max: number): number[] {
  if (steps.length <= max) return [...steps];
  const interval = steps.length / max;
  const out: number[] = [];
  for (let i = 0; i < max; i++) out.push(steps[Math.trunc(i * interval)]!);
  out.push(steps.at(-1)!);
  return out;
}

/**
 * Large series, from Tora's bucketed read (window summaries, not every point): each bucket's first
 * point, plus the range's last, so the first and last steps are always there as in MLflow. Bucketed
 * reads carry no per-point time, so `timestamp` is the series' last update.
 */
async function bucketedInterval(
  ctx: AppContext,
  q: IntervalQuery,
  runs: { runId: string; series: SeriesRow }[],
): Promise<IntervalMetric[]> {
  const out: IntervalMetric[] = [];
  for (const { runId, series: row } of runs) {
    const series = await bucketSeries(ctx, row, {
      from: q.startStep,
      to: q.endStep,
      budget: Math.max(1, q.maxResults - 1),
    });
    const timestamp = Math.trunc(series.series.updated_at);
    const b = series.buckets;
    const seen = new Set<number>();
    const push = (step: number, value: number): void => {
      if (seen.has(step) || seen.size >= q.maxResults) return;
      seen.add(step);
      out.push({ run_id: runId, key: q.key, value: toWire(value), timestamp, step });
    };
    for (let i = 0; i < b.count.length; i++) if (b.count[i]! > 0) push(b.firstStep[i]!, b.firstValue[i]!);
    for (let i = b.count.length - 1; i >= 0; i--) {
      if (b.count[i]! > 0) {
        push(b.lastStep[i]!, b.lastValue[i]!);
        break;
      }
    }
  }
  out.sort((a, b) => (a.run_id === b.run_id ? a.step - b.step : 0));
  return out;
}
