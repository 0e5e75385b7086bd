import type { Static } from '@sinclair/typebox';
import type { MetricDirection } from '../../db/schema.js';
import type { Finding as FindingSchema, Recommendation } from './analysis.schemas.js';

/**
 * One observation, always tied to a metric and the step range it rests on: the published Finding,
 * with `steps` as the pair its schema allows (exactly two items).
 */
export type Finding = Omit<Static<typeof FindingSchema>, 'steps'> & { steps: [number, number] };

/**
 * A metric as the analyzer sees it: one point per bucket (or per raw point when the series is
 * short), with the bucket's extremes and their steps so spikes are found at their exact step.
 */
export interface Curve {
  name: string;
  direction: MetricDirection | null;
  /** The first logged step; `steps` holds each bucket's last step, so steps[0] can be later. */
  firstStep?: number;
  steps: number[];
  /** The bucket's last value (NaN when only NaN was logged there). */
  values: number[];
  lo: number[];
  loStep: number[];
  hi: number[];
  hiStep: number[];
  /** First step in the bucket with NaN or ±Infinity, else null. */
  badStep: (number | null)[];
  /** Last step in the bucket with NaN or ±Infinity (exact at the end of the first stretch); default: the bucket's last step. */
  badLastStep?: (number | null)[];
}

export type HyperparamRecommendation = Static<typeof Recommendation>;

/** A run of the workspace as hyperparameter analysis sees it: its hyperparameters and best value. */
export interface RunOutcome {
  id: string;
  /** For saying which runs were compared (default: the id). */
  name?: string;
  group?: string | null;
  hyperparams: Record<string, string | number | boolean | null>;
  best: number;
}

/** A curve from plain points (each point its own bucket): for tests and short series. */
export function curveOf(name: string, direction: MetricDirection | null, steps: number[], values: number[]): Curve {
  return {
    name,
    direction,
    steps,
    values,
    lo: values,
    loStep: steps,
    hi: values,
    hiStep: steps,
    badStep: values.map((v, i) => (Number.isFinite(v) ? null : steps[i]!)),
    badLastStep: values.map((v, i) => (Number.isFinite(v) ? null : steps[i]!)),
  };
}
