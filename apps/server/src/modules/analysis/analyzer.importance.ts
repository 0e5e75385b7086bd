import type { MetricDirection } from '../../db/schema.js';
import type { HyperparamRecommendation, RunOutcome } from './analyzer.types.js';
import { fmt } from './analyzer.curves.js';
import { spearman, varianceExplained } from './analyzer.stats.js';

/** |correlation| (or √η²) to the 1..5 scale of the original Tora's `importance_level`. */
function importanceLevel(strength: number, runs: number): number {
  const s = Number.isFinite(strength) ? Math.abs(strength) : 0;
  const level = s < 0.2 ? 1 : s < 0.4 ? 2 : s < 0.6 ? 3 : s < 0.8 ? 4 : 5;
  // A handful of runs can correlate perfectly by chance.
  return runs < 6 ? Math.min(level, 3) : level;
}

const show = (v: unknown): string => (typeof v === 'number' ? fmt(v) : JSON.stringify(v));

function numeric(key: string, xs: number[], score: number[], metric: string): HyperparamRecommendation {
  const n = xs.length;
  const rho = spearman(xs, score);
  const order = score.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0]);
  const top = order.slice(0, Math.max(1, Math.ceil(n / 4))).map(([, i]) => xs[i]!);
  const bestValue = xs[order[0]![1]]!;
  const [lo, hi] = [Math.min(...top), Math.max(...top)];
  const range = lo === hi ? show(lo) : `${show(lo)}–${show(hi)}`;
  const level = importanceLevel(rho, n);
  // With every run at the same value of the metric there is no "best run" to point at.
  if (!Number.isFinite(rho)) {
    return { recommendation: `No measurable effect: all ${n} runs reached the same ${metric}.`, importance_level: level };
  }
  const effect =
    Math.abs(rho) < 0.2
      ? `Little effect on ${metric} (Spearman ρ = ${fmt(rho)} over ${n} runs).`
      : `${rho > 0 ? 'Higher' : 'Lower'} ${key} goes with a better ${metric} (Spearman ρ = ${fmt(rho)} over ${n} runs).`;
  return {
    recommendation: `${effect} The best runs used ${range}; try values around ${show(bestValue)} (the best run's).`,
    importance_level: level,
  };
}

function categorical(key: string, xs: string[], score: number[], metric: string): HyperparamRecommendation {
  const n = xs.length;
  const eta2 = varianceExplained(xs, score);
  const groups = new Map<string, number[]>();
  xs.forEach((x, i) => groups.set(x, [...(groups.get(x) ?? []), score[i]!]));
  const means = [...groups.entries()].map(([k, v]) => [k, v.reduce((a, b) => a + b, 0) / v.length] as const);
  means.sort((a, b) => b[1] - a[1]);
  const level = importanceLevel(Number.isFinite(eta2) ? Math.sqrt(eta2) : 0, n);
  return {
    recommendation: `${key} explains ${Number.isFinite(eta2) ? fmt(100 * eta2) : 0}% of the variance of ${metric} over ${n} runs; the best on average is ${means[0]![0]}${means.length > 1 ? ` (worst: ${means[means.length - 1]![0]})` : ''}.`,
    importance_level: level,
  };
}

/**
 * How much each of the experiment's hyperparameters seems to matter for the best value of
 * `metric` across the workspace's runs, with values to try.
 *
 * @example
 *   hyperparameterImportance({ keys: ['lr'], runs, metric: 'val/loss', direction: 'min' });
 *   // { lr: { recommendation: 'Lower lr goes with a better val/loss …', importance_level: 5 } }
 */
export function hyperparameterImportance(o: {
  keys: readonly string[];
  runs: readonly RunOutcome[];
  metric: string;
  direction: MetricDirection;
}): Record<string, HyperparamRecommendation> {
  const out: Record<string, HyperparamRecommendation> = {};
  for (const key of o.keys) {
    const rows = o.runs.filter((r) => r.hyperparams[key] !== undefined && r.hyperparams[key] !== null && Number.isFinite(r.best));
    // Higher score = better run, whatever the metric's direction.
    const score = rows.map((r) => (o.direction === 'min' ? -r.best : r.best));
    const values = rows.map((r) => r.hyperparams[key]!);
    const distinct = new Set(values.map((v) => JSON.stringify(v))).size;
    if (rows.length > 0 && distinct < 2) {
      // Nothing to compare: say so, and do not dress it up as advice about values to try.
      out[key] = {
        recommendation: `${key} never varied: ${rows.length === 1 ? 'the only run' : `all ${rows.length} runs`} with ${o.metric} used ${key} = ${show(values[0])}, so its effect cannot be estimated.`,
        importance_level: 1,
      };
      continue;
    }
    if (rows.length < 3) {
      out[key] = {
        recommendation: `Only ${rows.length} run(s) with ${key} and ${o.metric}: too few to estimate the effect of ${key}.`,
        importance_level: 1,
      };
      continue;
    }
    out[key] = values.every((v) => typeof v === 'number')
      ? numeric(key, values, score, o.metric)
      : categorical(
          key,
          values.map((v) => String(v)),
          score,
          o.metric,
        );
  }
  return out;
}
