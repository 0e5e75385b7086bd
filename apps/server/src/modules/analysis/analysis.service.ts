import type { AiProviderName } from '../../config.js';
import type { AppContext, Caller } from '../../context.js';
import { AppError } from '../../errors.js';
import { ANALYSIS_LIMITS } from '../../lib/limits.js';
import { directionOf } from '../compare/directions.js';
import { listDirections } from '../compare/directions.repository.js';
import type { Experiment } from '../experiments/experiment.js';
import { runsWithMetric } from '../experiments/experiments.repository.js';
import { experimentForCaller } from '../experiments/experiments.service.js';
import { bucketSeries } from '../metrics/metrics.buckets.service.js';
import { rawPage } from '../metrics/metrics.read.service.js';
import { listSeries } from '../metrics/metrics.repository.js';
import type { AnalysisCache } from './analysis.cache.js';
import type { ProviderCallLimiter } from './analysis.limiter.js';
import { buildPrompt, parseAnswer } from './analysis.prompt.js';
import { askProvider, ProviderError } from './analysis.providers.js';
import * as repo from './analysis.repository.js';
import type { AnalysisResult } from './analysis.schemas.js';
import { analyzeRun, primaryMetricOf, type BuiltinAnalysis } from './analyzer.js';
import type { Curve, RunOutcome } from './analyzer.types.js';

const BUDGET = 2000;
const MAX_METRICS = ANALYSIS_LIMITS.metrics;

const hyperparamsOf = (e: Pick<Experiment, 'hyperparams'>): Record<string, string | number | boolean | null> =>
  Object.fromEntries(e.hyperparams.map((h) => [h.key, h.value]));

/** Curves of an experiment's metrics: buckets at BUDGET, with the NaN/Inf onset made exact by a raw read. */
async function loadCurves(ctx: AppContext, row: Experiment): Promise<Curve[]> {
  const overrides = await listDirections(ctx.db, row.workspaceId);
  const series = (await listSeries(ctx.db, row.id)).slice(0, MAX_METRICS);
  return Promise.all(
    series.map(async (s) => {
      const b = (await bucketSeries(ctx, s, { budget: BUDGET })).buckets;
      const badStep = Array.from(b.count, (_, k) => {
        const candidates = [b.nanCount[k]! > 0 ? b.firstNanStep[k]! : Infinity];
        if (b.maxValue[k] === Infinity) candidates.push(b.maxStep[k]!);
        if (b.minValue[k] === -Infinity) candidates.push(b.minStep[k]!);
        const step = Math.min(...candidates);
        return Number.isFinite(step) ? step : null;
      });
      const badLastStep = badStep.map((x, k) => (x === null ? null : b.lastStep[k]!));
      const firstBad = badStep.findIndex((x) => x !== null);
      // Buckets merged from summaries bound a NaN by their edges: the first stretch's onset and
      // end are read exactly from its first and last bucket's points.
      const exact = async (k: number, pick: (found: number, step: number) => boolean): Promise<number | null> => {
        let found: number | null = null;
        await rawPage(ctx, s, { from: b.firstStep[k], to: b.lastStep[k], limit: 100_000 }, (p, i) => {
          if (!Number.isFinite(p.values[i]!) && (found === null || pick(found, p.steps[i]!))) found = p.steps[i]!;
        });
        return found;
      };
      if (firstBad >= 0) {
        let lastBad = firstBad;
        while (lastBad + 1 < badStep.length && badStep[lastBad + 1] !== null) lastBad++;
        if (b.count[firstBad]! > 1) badStep[firstBad] = (await exact(firstBad, (f, x) => x < f)) ?? badStep[firstBad]!;
        if (b.count[lastBad]! > 1) badLastStep[lastBad] = (await exact(lastBad, (f, x) => x > f)) ?? badLastStep[lastBad]!;
      }
      // A bucket of NaNs only has no extremes: the curve takes its last point there.
      const orLast = (steps: Float64Array) => Array.from(steps, (x, k) => (Number.isNaN(x) ? b.lastStep[k]! : x));
      return {
        name: s.name,
        direction: directionOf(s.name, overrides),
        firstStep: b.firstStep[0],
        steps: Array.from(b.lastStep),
        values: Array.from(b.lastValue),
        lo: Array.from(b.minValue),
        loStep: orLast(b.minStep),
        hi: Array.from(b.maxValue),
        hiStep: orLast(b.maxStep),
        badStep,
        badLastStep,
      };
    }),
  );
}

async function workspaceOutcomes(ctx: AppContext, row: Experiment, curves: readonly Curve[]): Promise<RunOutcome[] | undefined> {
  const primary = primaryMetricOf(curves);
  const direction = curves.find((c) => c.name === primary)?.direction;
  if (!primary || !direction) return undefined;
  const rows = await runsWithMetric(ctx.db, row.workspaceId, primary);
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    group: r.group,
    hyperparams: hyperparamsOf(r),
    best: (direction === 'min' ? r.min_value : r.max_value) ?? NaN,
  }));
}

/** What lives as long as the app: built with the routes, never at module level. */
export interface AnalysisState {
  cache: AnalysisCache;
  limiter: ProviderCallLimiter;
}

/** The built-in analyzer reads curves, not questions: a typed question gets a sentence saying so. */
const unanswered = (summary: string, question: string | undefined): string =>
  question?.trim()
    ? `${summary} The built-in analyzer cannot answer typed questions, so "${question.trim().slice(0, 200)}" is not answered here; only an LLM provider (TORA_AI_PROVIDER) receives it.`
    : summary;

async function withProvider(
  ctx: AppContext,
  o: {
    row: Experiment;
    ref: Experiment | null;
    builtin: BuiltinAnalysis;
    curves: Curve[];
    question?: string;
    /** Takes a call from the caller's budget for a retry; false when none is left. */
    mayRetry: () => boolean;
  },
): Promise<Pick<AnalysisResult, 'summary' | 'findings' | 'hyperparameter_recommendations' | 'note'>> {
  const ai = ctx.config.ai;
  const prompt = buildPrompt({
    experiment: { name: o.row.name, description: o.row.description, status: o.row.status, hyperparams: hyperparamsOf(o.row) },
    reference: o.ref,
    builtin: o.builtin,
    curves: o.curves,
    question: o.question,
  });
  let reason = '';
  for (let attempt = 0; attempt < 2; attempt++) {
    if (attempt > 0 && !o.mayRetry()) {
      reason += '; no retry: the hourly limit of provider calls is reached';
      break;
    }
    try {
      const answer = parseAnswer(await askProvider(ai, prompt));
      return {
        summary: answer.summary,
        hyperparameter_recommendations: answer.hyperparameter_recommendations,
        findings: answer.findings ?? o.builtin.findings,
      };
    } catch (err) {
      reason = err instanceof Error ? err.message : 'unknown error';
      if (err instanceof ProviderError && !err.retryable) break;
    }
  }
  return {
    summary: unanswered(o.builtin.summary, o.question),
    findings: o.builtin.findings,
    hyperparameter_recommendations: o.builtin.hyperparameter_recommendations,
    note: `The ${ai.provider} provider failed (${reason}); this is the built-in analysis.`,
  };
}

/**
 * Analysis of one experiment by the built-in analyzer or the configured LLM provider, cached
 * until new data arrives. Readers of the experiment only.
 *
 * @example
 *   await analyzeExperiment(ctx, caller, { cache, limiter }, { experimentId, provider: 'builtin' });
 */
export async function analyzeExperiment(
  ctx: AppContext,
  caller: Caller,
  state: AnalysisState,
  q: { experimentId: string; referenceId?: string; provider?: AiProviderName; question?: string },
): Promise<AnalysisResult> {
  const { row } = await experimentForCaller(ctx, caller, q.experimentId, 'viewer');
  const provider = q.provider ?? ctx.config.ai.provider;
  if (provider !== 'builtin' && provider !== ctx.config.ai.provider) {
    throw new AppError('AI_PROVIDER_UNAVAILABLE', 400, `The ${provider} provider is not configured on this server`);
  }
  let ref: Experiment | null = null;
  if (q.referenceId) ref = (await experimentForCaller(ctx, caller, q.referenceId, 'viewer')).row;
  else if (row.referenceId)
    ref = await experimentForCaller(ctx, caller, row.referenceId, 'viewer').then(
      (r) => r.row,
      () => null,
    );

  const stamp = await repo.freshness(ctx.db, row.workspaceId, ref ? [row.id, ref.id] : [row.id]);
  const key = JSON.stringify([row.id, ref?.id ?? null, provider, q.question ?? null, row.updatedAt, ref?.updatedAt ?? null]);
  const hit = state.cache.get(key, stamp);
  if (hit) return { ...hit, cached: true };
  // Checked and taken before any work, synchronously, so a burst of requests cannot overdraw it.
  if (provider !== 'builtin' && !state.limiter.take(caller.userId, ctx.clock())) {
    const wait = state.limiter.retryAfter(caller.userId, ctx.clock());
    throw new AppError(
      'RATE_LIMITED',
      429,
      `At most ${state.limiter.perHour} ${provider} provider calls per user per hour; try again in ${wait} s (provider "builtin" is not limited)`,
      { retryAfterSeconds: wait },
    );
  }

  const curves = await loadCurves(ctx, row);
  const refCurves = ref ? await loadCurves(ctx, ref) : null;
  const builtin = analyzeRun({
    name: row.name,
    curves,
    hyperparams: hyperparamsOf(row),
    reference: ref && refCurves ? { name: ref.name, curves: refCurves } : undefined,
    runs: await workspaceOutcomes(ctx, row, curves),
    runId: row.id,
  });
  const base = {
    experimentId: row.id,
    referenceId: ref?.id ?? null,
    primaryMetric: builtin.primaryMetric,
    metrics: builtin.metrics,
    comparedWith: builtin.comparedWith,
    provider,
    model: provider === 'builtin' ? null : ctx.config.ai.model,
    cached: false,
  };
  const body =
    provider === 'builtin'
      ? {
          summary: unanswered(builtin.summary, q.question),
          findings: builtin.findings,
          hyperparameter_recommendations: builtin.hyperparameter_recommendations,
        }
      : await withProvider(ctx, {
          row,
          ref,
          builtin,
          curves,
          question: q.question,
          mayRetry: () => state.limiter.take(caller.userId, ctx.clock()),
        });
  const result: AnalysisResult = { ...base, ...body };
  // A fallback is not cached: the provider may answer next time.
  if (body.note === undefined) state.cache.set(key, stamp, result);
  return result;
}
