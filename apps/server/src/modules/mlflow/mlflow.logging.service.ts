import type { AppContext, Caller } from '../../context.js';
import { AppError } from '../../errors.js';
import { fromWire, toWire } from '../../lib/numbers.js';
import { fingerprint, type ParsedBatch, type SeriesInput } from '../metrics/ingest.js';
import { transactionWithRetry } from '../../db/retry.js';
import { appendBatch } from '../metrics/metrics.ingest.service.js';
import { findSeries, rawPage, seriesForCaller } from '../metrics/metrics.read.service.js';
import { mlflowTimestamp } from './mlflow.interval.service.js';
import { invalidParameter, invalidValue } from './mlflow.errors.js';
import { addHyperparams, lockExperiment, updateExperiment } from '../experiments/experiments.rows.service.js';
import * as repo from './mlflow.repository.js';
import * as modelsRepo from './mlflow.models.repository.js';
import type { MlflowLoggedModelMetricsTable } from '../../db/schema.js';
import { EXPERIMENT_LIMITS, METRIC_LIMITS, MLFLOW_LIMITS } from '../../lib/limits.js';
import { checkKey, missing, type KeyValue } from './mlflow.request.js';
import { activeRunForCaller, paramText, runForCaller, syncRunGroup, syncRunInfo } from './mlflow.runs.service.js';

/** One MLflow metric point as logged: MLflow's `timestamp` (ms) becomes the point's time. */
export interface MetricInput {
  key: string;
  value: number;
  timestamp: number;
  step: number;
  /** MLflow 3 links a point to a logged model by this; `log_model` re-sends the run's points with it. */
  modelId?: string;
  /** The dataset a model metric was measured on (`mlflow.log_metric(..., dataset=...)`). */
  datasetName?: string;
  datasetDigest?: string;
}

/** POSIX normpath, as Python's posixpath.normpath reads a name. */
function normpath(p: string): string {
  const absolute = p.startsWith('/');
  const parts: string[] = [];
  for (const s of p.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..' && parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop();
    else if (s !== '..' || !absolute) parts.push(s);
  }
  const lead = absolute ? (p.startsWith('//') && !p.startsWith('///') ? '//' : '/') : '';
  return lead + parts.join('/') || '.';
}

/**
 * Checks one metric of a request; value may be a number or "NaN"/"Infinity"/"-Infinity". `at` is
 * where it sits in the request (`metrics[3]`), '' for log-metric's own fields: a missing field is
 * named by it, as MLflow names it.
 */
export function metricInput(raw: unknown, at = ''): MetricInput {
  const field = (name: string) => (at === '' ? name : `${at}.${name}`);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalidParameter(
      `Invalid value ${JSON.stringify(raw)} for parameter '${at || 'metric'}': must be an object {key, value, timestamp, step}`,
    );
  }
  const m = raw as Record<string, unknown>;
  const key = checkKey('Metric', m.key, field('key'));
  // MLflow refuses a name that a file path would read as another ("a/../b", "a/./b", "a//b", "a/").
  if (normpath(key) !== key) {
    throw invalidParameter(
      `Invalid value "${key}" for parameter 'metric name' supplied: Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '${normpath(key)}'`,
    );
  }
  if (m.value === undefined || m.value === null) missing(field('value'));
  if (m.timestamp === undefined || m.timestamp === null) missing(field('timestamp'));
  // A numeric string is MLflow's double as text; a string that only starts like one ("1abc") is no number.
  const numeric = typeof m.value === 'string' && /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(m.value);
  const value = fromWire(numeric ? Number(m.value) : m.value);
  if (value === undefined || typeof m.value === 'boolean') {
    throw invalidParameter(
      `Got invalid value ${JSON.stringify(m.value)} for metric '${key}' (timestamp=${JSON.stringify(m.timestamp)}). Please specify value as a valid double (64-bit floating point)`,
    );
  }
  const int = (v: unknown, name: string, dflt: number | null): number => {
    if ((v === undefined || v === null) && dflt !== null) return dflt;
    const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
    // Any int64, as MLflow stores it; past 2^53 JSON (and float64 storage) holds the nearest double.
    if (typeof n !== 'number' || !Number.isInteger(n) || Math.abs(n) > 2 ** 63) {
      throw invalidValue(v, field(name), `metric '${key}' (value=${String(m.value)}) needs an integer ${name}`);
    }
    return n;
  };
  const timestamp = int(m.timestamp, 'timestamp', null);
  const step = int(m.step, 'step', 0);
  // Tora's own metrics route takes times from 0 to the last instant a date holds; so does this one.
  if (timestamp < 0 || timestamp > METRIC_LIMITS.maxTime) {
    throw invalidParameter(
      `Got invalid timestamp ${timestamp} for metric '${key}': must be epoch milliseconds from 0 to ${METRIC_LIMITS.maxTime}`,
    );
  }
  const modelId = typeof m.model_id === 'string' && m.model_id !== '' ? m.model_id : undefined;
  if (modelId === undefined) return { key, value, timestamp, step };
  const dataset = (name: 'dataset_name' | 'dataset_digest', max: number): string | undefined => {
    const v = m[name];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string' || v.length > max) {
      throw invalidParameter(
        `Invalid value for parameter '${name}' of metric '${key}': must be a string of at most ${max} characters`,
      );
    }
    return v;
  };
  const datasetName = dataset('dataset_name', MLFLOW_LIMITS.datasetNameLength);
  const datasetDigest = dataset('dataset_digest', MLFLOW_LIMITS.datasetDigestLength);
  return {
    key,
    value,
    timestamp,
    step,
    modelId,
    ...(datasetName === undefined ? {} : { datasetName }),
    ...(datasetDigest === undefined ? {} : { datasetDigest }),
  };
}

/**
 * Drops points that only link an already-stored point to a logged model: MLflow 3's `log_model`
 * re-sends the run's points of a step with `model_id` set (log_model_metrics_for_step), which
 * would otherwise append each again to the run's curves. A model-linked point not in the history
 * yet (MLflow's Keras callback with a model_id) is stored as any other.
 */
async function withoutModelLinks(
  ctx: AppContext,
  caller: Caller,
  runId: string,
  metrics: readonly MetricInput[],
): Promise<MetricInput[]> {
  const linked = metrics.filter((m) => m.modelId !== undefined);
  if (linked.length === 0) return [...metrics];
  const known = new Set<string>();
  // Points compared in numbers; the value by its wire form, so NaN matches NaN.
  const id = (key: string, step: number, time: number, value: number) => JSON.stringify([key, step, time, toWire(value)]);
  for (const key of new Set(linked.map((m) => m.key))) {
    const steps = linked.filter((m) => m.key === key).map((m) => m.step);
    try {
      const series = await seriesForCaller(ctx, caller, runId, key);
      await rawPage(ctx, series, { from: Math.min(...steps), to: Math.max(...steps), limit: 10_000 }, (p, i) =>
        known.add(id(key, p.steps[i]!, Number.isNaN(p.times[i]!) ? 0 : p.times[i]!, p.values[i]!)),
      );
    } catch (err) {
      if (!(err instanceof AppError && err.code === 'METRIC_NOT_FOUND')) throw err;
    }
  }
  return metrics.filter((m) => m.modelId === undefined || !known.has(id(m.key, m.step, m.timestamp, m.value)));
}

/**
 * The points of a request that name a logged model, as that model's metrics (MLflow's
 * logged_model_metrics). Only models of the run's own experiment are linked: a point naming any
 * other (or none that exists) is still stored on the run, and links nothing.
 */
async function modelMetricRows(
  ctx: AppContext,
  workspaceId: string,
  runId: string,
  metrics: readonly MetricInput[],
): Promise<MlflowLoggedModelMetricsTable[]> {
  const named = metrics.filter((m) => m.modelId !== undefined);
  if (named.length === 0) return [];
  const known = new Set(await modelsRepo.modelsOfWorkspace(ctx.db, workspaceId, [...new Set(named.map((m) => m.modelId!))]));
  return named
    .filter((m) => known.has(m.modelId!))
    .map((m) => ({
      model_id: m.modelId!,
      run_id: runId,
      key: m.key,
      value: Number.isNaN(m.value) ? null : m.value,
      timestamp: m.timestamp,
      step: m.step,
      dataset_name: m.datasetName ?? '',
      dataset_digest: m.datasetDigest ?? '',
    }));
}

/**
 * The metrics of one request as an ingest batch. Its batch id is the hash of the points
 * (key, value, timestamp, step): MLflow's client retries a timed-out request with no batch id of
 * its own, and MLflow's metric key makes identical points idempotent, so an identical request
 * is claimed once and stored once.
 */
export function toBatch(metrics: readonly MetricInput[]): ParsedBatch {
  const byKey = new Map<string, MetricInput[]>();
  for (const m of metrics) {
    const list = byKey.get(m.key);
    if (list) list.push(m);
    else byKey.set(m.key, [m]);
  }
  const series = new Map<string, SeriesInput>();
  for (const [key, list] of byKey) {
    series.set(key, {
      steps: Float64Array.from(list, (m) => m.step),
      values: Float64Array.from(list, (m) => m.value),
      times: Float64Array.from(list, (m) => m.timestamp),
      metadata: null,
      missingSteps: null,
    });
  }
  // MLflow clients retry without a batch id: the content itself names the batch, so an identical
  // retry is the same batch (stored once) and the ingest path's own fingerprint recognises it.
  const content = fingerprint(series);
  return { batchId: `mlflow:${content}`, fingerprint: content, series, count: metrics.length };
}

export interface LogBatchInput {
  metrics: MetricInput[];
  params: KeyValue[];
  tags: KeyValue[];
}

function checkBatchLimits(input: LogBatchInput): void {
  const { metrics, params, tags } = input;
  const L = MLFLOW_LIMITS;
  if (metrics.length > L.metricsPerBatch) {
    throw invalidParameter(
      `A batch logging request can contain at most ${L.metricsPerBatch} metrics. Got ${metrics.length} metrics. Please split up metrics across multiple requests and try again.`,
    );
  }
  if (params.length > L.paramsTagsPerBatch) {
    throw invalidParameter(
      `A batch logging request can contain at most ${L.paramsTagsPerBatch} params. Got ${params.length} params. Please split up params across multiple requests and try again.`,
    );
  }
  if (tags.length > L.paramsTagsPerBatch) {
    throw invalidParameter(
      `A batch logging request can contain at most ${L.paramsTagsPerBatch} tags. Got ${tags.length} tags. Please split up tags across multiple requests and try again.`,
    );
  }
  const total = metrics.length + params.length + tags.length;
  if (total > L.entitiesPerBatch) {
    throw invalidParameter(
      `A batch logging request can contain at most ${L.entitiesPerBatch} total metrics, params, and tags. Got ${total}.`,
    );
  }
}

/**
 * Logs metrics, params and tags to a run in one transaction: all of it or none (a changed param
 * refuses the whole request, as MLflow does). Params are immutable once logged; the same value
 * again is fine. The `mlflow.runName` tag renames the run.
 */
export async function logBatch(
  ctx: AppContext,
  caller: Caller,
  runId: string,
  input: LogBatchInput,
  // The importer writes a whole history page per transaction; MLflow's per-request limits are for clients.
  opts: { bulk?: boolean } = {},
): Promise<void> {
  if (!opts.bulk) checkBatchLimits(input);
  const run = await activeRunForCaller(ctx, caller, runId);
  const metrics = await withoutModelLinks(ctx, caller, runId, input.metrics);
  const modelMetrics = await modelMetricRows(ctx, run.workspaceId, runId, input.metrics);
  const now = ctx.clock();
  await transactionWithRetry(ctx.db, async (trx) => {
    if (input.params.length > 0) {
      const row = await lockExperiment(trx, ctx, runId);
      if (!row) throw new AppError('EXPERIMENT_NOT_FOUND', 404, `Run with id=${runId} not found`);
      const existing = row.hyperparams;
      const known = new Map(existing.map((h) => [h.key, paramText(h.value)]));
      const fresh: KeyValue[] = [];
      for (const p of input.params) {
        const old = known.get(p.key);
        if (old === undefined) {
          known.set(p.key, p.value);
          fresh.push(p);
        } else if (old !== p.value) {
          throw invalidParameter(
            `Changing param values is not allowed. Param with key='${p.key}' was already logged with value='${old}' for run ID='${runId}'. Attempted logging new value '${p.value}'.`,
          );
        }
      }
      if (known.size > EXPERIMENT_LIMITS.hyperparams) {
        throw invalidParameter(
          `A run may hold at most ${EXPERIMENT_LIMITS.hyperparams} params; run ID='${runId}' has ${existing.length} and this request adds ${fresh.length}.`,
        );
      }
      if (fresh.length > 0) {
        await addHyperparams(
          trx,
          row,
          fresh.map(({ key, value }) => ({ key, value })),
          { numericText: true },
        );
      }
    }
    const tags = new Map(input.tags.map((t) => [t.key, t.value]));
    const runName = tags.get('mlflow.runName');
    tags.delete('mlflow.runName');
    if (runName !== undefined && runName.trim() !== '') {
      await updateExperiment(trx, runId, { name: runName.trim().slice(0, 200), updatedAt: now });
    }
    await repo.setRunTags(
      trx,
      runId,
      [...tags].map(([key, value]) => ({ key, value })),
    );
    if (tags.size > 0) await syncRunInfo(trx, runId);
    if (tags.has('mlflow.parentRunId')) await syncRunGroup(trx, runId);
    if (metrics.length > 0) await appendBatch(trx, ctx, runId, toBatch(metrics), now);
    await modelsRepo.addModelMetrics(trx, modelMetrics);
  });
}

/**
 * One page of a metric's history in logging order. An unknown metric is an empty history, as in
 * MLflow. Page tokens wrap the raw-points cursor of Tora's own read.
 */
export async function metricHistory(
  ctx: AppContext,
  caller: Caller,
  q: { runId: string; key: string; maxResults: number; pageToken?: string },
): Promise<{ metrics: { key: string; value: number | string; timestamp: number; step: number }[]; next_page_token?: string }> {
  await runForCaller(ctx, caller, q.runId, 'viewer');
  const metrics: { key: string; value: number | string; timestamp: number; step: number }[] = [];
  let next: string | null;
  try {
    // Access was checked above, the MLflow way: a run deleted through MLflow still answers its history.
    const series = await findSeries(ctx, q.runId, q.key);
    if (!series) return { metrics: [] };
    next = await rawPage(ctx, series, { limit: q.maxResults, cursor: q.pageToken }, (p, i) => {
      metrics.push({ key: q.key, value: toWire(p.values[i]!), timestamp: mlflowTimestamp(p.times[i]!), step: p.steps[i]! });
    });
  } catch (err) {
    if (err instanceof AppError && err.code === 'METRIC_NOT_FOUND') return { metrics: [] };
    if (err instanceof AppError && err.status === 400) throw invalidParameter('Invalid page token: not one this server issued');
    throw err;
  }
  // Tora keeps points in arrival order, which is not step order when batches arrive out of order
  // (MLflow's async logging sends them from a thread pool). A page is answered in step order, then
  // time: MLflow's server sorts by time first, which agrees wherever steps grow with time and keeps
  // a history in step order where a client sent made-up timestamps. The pages follow the stored order.
  metrics.sort((a, b) => a.step - b.step || a.timestamp - b.timestamp);
  return next ? { metrics, next_page_token: next } : { metrics };
}
