import type { AppContext, Caller } from '../../context.js';
import { MLFLOW_LIMITS } from '../../lib/limits.js';
import { toWire } from '../../lib/numbers.js';
import { bucketSeries } from '../metrics/metrics.buckets.service.js';
import { findSeries } from '../metrics/metrics.read.service.js';
import { invalidParameter } from './mlflow.errors.js';
import { runForCaller } from './mlflow.runs.service.js';

const MAX_RUNS = MLFLOW_LIMITS.intervalRuns;

/**
 * `metrics/get-history-bulk-interval`: up to `maxResults` points per run over a step range, for
 * charts. Answered from Tora's bucketed read (window summaries, not every point): each bucket's
 * first point, plus the range's last point, so the first and last steps are always there as in
 * MLflow. Bucketed reads carry no per-point time, so `timestamp` is the series' last update.
 */
export async function bulkInterval(
  ctx: AppContext,
  caller: Caller,
  q: { runIds: string[]; key: string; startStep?: number; endStep?: number; maxResults: number },
): Promise<{ metrics: { run_id: string; key: string; value: number | string; timestamp: number; step: number }[] }> {
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
  const out: { run_id: string; key: string; value: number | string; timestamp: number; step: number }[] = [];
  for (const runId of q.runIds) {
    await runForCaller(ctx, caller, runId, 'viewer');
    // Access was checked the MLflow way (a run deleted through MLflow still answers).
    const row = await findSeries(ctx, runId, q.key);
    if (!row) continue;
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
  return { metrics: out };
}
