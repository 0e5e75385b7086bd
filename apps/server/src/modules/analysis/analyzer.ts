import type { Static } from '@sinclair/typebox';
import type { MetricDirection } from '../../db/schema.js';
import type { MetricOverview as MetricOverviewSchema } from './analysis.schemas.js';
import type { Curve, Finding, HyperparamRecommendation, RunOutcome } from './analyzer.types.js';
import {
  bestPoint,
  convergence,
  detectDivergence,
  detectNonFinite,
  detectOscillation,
  detectPlateau,
  detectSpikes,
  fmt,
} from './analyzer.curves.js';
import { hyperparameterImportance } from './analyzer.importance.js';
import { comparableRuns, describePeers, isSeedKey, type Peers } from './analyzer.peers.js';
import { detectOverfitting, detectRegressions, splitRole, trainValPairs } from './analyzer.pairs.js';

type MetricOverview = Static<typeof MetricOverviewSchema>;

export interface BuiltinAnalysis {
  summary: string;
  findings: Finding[];
  hyperparameter_recommendations: Record<string, HyperparamRecommendation>;
  primaryMetric: string | null;
  metrics: MetricOverview[];
  /** The runs the hyperparameter advice compared this one with (null: no metric to judge by). */
  comparedWith: { basis: Peers['basis']; group: string | null; runs: { id: string; name: string }[] } | null;
}

export interface AnalyzeInput {
  name: string;
  curves: readonly Curve[];
  hyperparams: Readonly<Record<string, unknown>>;
  reference?: { name: string; curves: readonly Curve[] };
  /** Best value of the primary metric per workspace run (this one included); see `primaryMetricOf`. */
  runs?: readonly RunOutcome[];
  /** This run's id among `runs` (its group decides which runs are comparable). */
  runId?: string;
}

/** The metric the run is judged by: a validation loss if there is one, else any validation metric, any loss, any known metric. */
export function primaryMetricOf(curves: readonly { name: string; direction: MetricDirection | null }[]): string | null {
  const known = curves.filter((c) => c.direction !== null);
  const isVal = (n: string): boolean => splitRole(n).role === 'val';
  const isLoss = (n: string): boolean => /loss/i.test(n);
  return (
    known.find((c) => isVal(c.name) && isLoss(c.name))?.name ??
    known.find((c) => isVal(c.name))?.name ??
    known.find((c) => isLoss(c.name))?.name ??
    known[0]?.name ??
    null
  );
}

const SEVERITY_RANK = { critical: 0, warning: 1, info: 2 } as const;

function summarize(input: AnalyzeInput, findings: readonly Finding[], primary: MetricOverview | undefined): string {
  const problems = findings.filter((f) => f.severity !== 'info' && f.kind !== 'best_step');
  const steps = input.curves.flatMap((c) => (c.steps.length ? [c.firstStep ?? c.steps[0]!, c.steps[c.steps.length - 1]!] : []));
  const [first, last] = [Math.min(...steps), Math.max(...steps)];
  const parts = [
    `Run "${input.name}": ${input.curves.length} metric(s) analyzed` +
      (steps.length === 0 ? '.' : first === last ? ` at step ${first}.` : ` over steps ${first}–${last}.`),
  ];
  if (primary?.best !== null && primary?.best !== undefined) {
    parts.push(`Best ${primary.name}: ${fmt(primary.best)} at step ${primary.bestStep}.`);
    const curve = input.curves.find((c) => c.name === primary.name);
    const converged =
      curve && !findings.some((f) => f.metric === primary.name && f.kind !== 'best_step') ? convergence(curve) : null;
    if (converged) {
      parts.push(
        `${primary.name} converged: no material improvement from step ${converged.step} on (about ${fmt(converged.level)}; ${fmt(converged.first.value)} at step ${converged.first.step}).`,
      );
    }
  }
  // Each detector needs a minimum of points (see analyzer.curves.ts); below it, say so rather than "none found".
  const longest = Math.max(0, ...input.curves.map((c) => c.values.length));
  const unjudged = [
    ...(longest < 10 ? ['divergence', 'overfitting'] : []),
    ...(longest < 20 ? ['spikes', 'plateaus'] : []),
    ...(longest < 41 ? ['oscillation'] : []),
  ];
  if (input.curves.length === 0) {
    parts.push('No metrics logged yet.');
  } else if (problems.length === 0 && unjudged.length === 0) {
    parts.push('No divergence, NaN/Inf, spikes, oscillation or overfitting detected.');
  } else if (problems.length === 0) {
    parts.push(
      `No NaN/Inf; at most ${longest} point(s) per metric, too few to judge ${unjudged.slice(0, -1).join(', ')}${unjudged.length > 1 ? ' or ' : ''}${unjudged[unjudged.length - 1]}.`,
    );
  } else {
    const critical = problems.filter((f) => f.severity === 'critical').length;
    parts.push(`${critical} critical and ${problems.length - critical} warning finding(s):`);
    for (const f of problems.slice(0, 3)) parts.push(f.message);
  }
  return parts.join(' ');
}

/**
 * The built-in analysis of one run: problems found in its curves (each with the metric and the
 * step range it rests on), the best step per metric, regressions against the reference, and
 * hyperparameter importance across the workspace's runs. Pure: the caller reads the data.
 *
 * @example
 *   analyzeRun({ name: 'run-7', curves: [curveOf('loss', 'min', steps, values)], hyperparams: { lr: 0.1 } });
 */
export function analyzeRun(input: AnalyzeInput): BuiltinAnalysis {
  const byName = new Map(input.curves.map((c) => [c.name, c]));
  const findings: Finding[] = [];
  const overfit = new Set<string>();
  for (const [train, val] of trainValPairs([...byName.keys()])) {
    const found = detectOverfitting(byName.get(train)!, byName.get(val)!);
    if (found.length) overfit.add(val);
    findings.push(...found);
  }
  const metrics: MetricOverview[] = [];
  for (const c of input.curves) {
    findings.push(...detectNonFinite(c));
    // Overfitting already explains a validation curve that rises after its best.
    const diverged = overfit.has(c.name) ? [] : detectDivergence(c);
    findings.push(...diverged, ...detectSpikes(c), ...detectOscillation(c));
    // A curve that got worse after its best has a flat running best there: that is not a plateau.
    if (!overfit.has(c.name) && diverged.length === 0) findings.push(...detectPlateau(c));
    const best = bestPoint(c);
    metrics.push({ name: c.name, direction: c.direction, best: best?.value ?? null, bestStep: best?.step ?? null });
    if (best) {
      findings.push({
        kind: 'best_step',
        severity: 'info',
        metric: c.name,
        steps: [best.step, best.step],
        message: `Best ${c.name}: ${fmt(best.value)} at step ${best.step}.`,
      });
    }
  }
  if (input.reference) findings.push(...detectRegressions(input.curves, input.reference));
  findings.sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || a.steps[0] - b.steps[0]);

  const primaryMetric = primaryMetricOf(input.curves);
  const primary = metrics.find((m) => m.name === primaryMetric);
  const keys = Object.keys(input.hyperparams);
  const self: RunOutcome = input.runs?.find((r) => r.id === input.runId) ?? {
    id: input.runId ?? '',
    name: input.name,
    hyperparams: input.hyperparams as RunOutcome['hyperparams'],
    best: NaN,
  };
  const peers = primary?.direction && input.runs ? comparableRuns(self, input.runs) : null;
  const judged = keys.filter((k) => !isSeedKey(k));
  const hyperparameter_recommendations: Record<string, HyperparamRecommendation> = {
    ...(peers && primary?.direction
      ? hyperparameterImportance({ keys: judged, runs: peers.runs, metric: primary.name, direction: primary.direction })
      : Object.fromEntries(
          judged.map((k) => [
            k,
            { recommendation: 'No metric with a known direction to judge this hyperparameter by.', importance_level: 1 },
          ]),
        )),
    ...Object.fromEntries(
      keys.filter(isSeedKey).map((k) => [
        k,
        {
          recommendation: `${k} is a random seed: which value did best is chance, so there is no advice on it.`,
          importance_level: 1,
        },
      ]),
    ),
  };
  const comparedWith = peers && {
    basis: peers.basis,
    group: peers.group,
    runs: peers.runs.filter((r) => r.id !== self.id).map((r) => ({ id: r.id, name: r.name ?? r.id })),
  };
  let summary = summarize(input, findings, primary);
  if (peers && judged.length > 0) summary += ` Hyperparameters compared with ${describePeers(peers)}.`;
  return { summary, findings, hyperparameter_recommendations, primaryMetric, metrics, comparedWith };
}
