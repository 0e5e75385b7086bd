import { Type, type Static } from '@sinclair/typebox';
import { Uuid } from '../../lib/schemas.js';
import { ANALYSIS_LIMITS } from '../../lib/limits.js';

const FINDING_KINDS = [
  'nan_inf',
  'divergence',
  'spike',
  'plateau',
  'oscillation',
  'overfitting',
  'regression',
  'best_step',
] as const;
const Kind = Type.Union(FINDING_KINDS.map((k) => Type.Literal(k)));
export const Finding = Type.Object({
  kind: Kind,
  severity: Type.Union([Type.Literal('info'), Type.Literal('warning'), Type.Literal('critical')]),
  metric: Type.String({ maxLength: 500 }),
  steps: Type.Array(Type.Number(), { minItems: 2, maxItems: 2, description: '[from, to], inclusive' }),
  message: Type.String({ maxLength: 4000 }),
});
export const Recommendation = Type.Object({
  recommendation: Type.String({ maxLength: 4000 }),
  importance_level: Type.Integer({ minimum: 1, maximum: 5 }),
});
const Recommendations = Type.Record(Type.String(), Recommendation);

/** What an LLM must answer (validated; anything else is retried once, then the built-in result is used). */
export const LlmAnswer = Type.Object({
  summary: Type.String({ minLength: 1, maxLength: 8000 }),
  hyperparameter_recommendations: Recommendations,
  findings: Type.Optional(Type.Array(Finding, { maxItems: 100 })),
});
export type LlmAnswerT = Static<typeof LlmAnswer>;

/** A metric's best point, by its direction (null without one). */
export const MetricOverview = Type.Object({
  name: Type.String(),
  direction: Type.Union([Type.Literal('min'), Type.Literal('max'), Type.Null()]),
  best: Type.Union([Type.Number(), Type.Null()]),
  bestStep: Type.Union([Type.Number(), Type.Null()]),
});

const Provider = Type.Union([Type.Literal('builtin'), Type.Literal('anthropic'), Type.Literal('openai')]);

export const AnalysisResponse = Type.Object({
  experimentId: Uuid,
  referenceId: Type.Union([Uuid, Type.Null()]),
  summary: Type.String(),
  hyperparameter_recommendations: Recommendations,
  findings: Type.Array(Finding),
  primaryMetric: Type.Union([Type.String(), Type.Null()]),
  metrics: Type.Array(MetricOverview),
  comparedWith: Type.Union(
    [
      Type.Object({
        basis: Type.Union([Type.Literal('group'), Type.Literal('hyperparameters'), Type.Literal('none')], {
          description: "group: the run's group; hyperparameters: runs sharing most of its hyperparameter keys and the metric",
        }),
        group: Type.Union([Type.String(), Type.Null()]),
        runs: Type.Array(Type.Object({ id: Uuid, name: Type.String() })),
      }),
      Type.Null(),
    ],
    { description: 'The runs the hyperparameter advice compared this one with; null without a metric to judge by' },
  ),
  provider: Provider,
  model: Type.Union([Type.String(), Type.Null()]),
  cached: Type.Boolean(),
  note: Type.Optional(Type.String({ description: 'Why the built-in result is shown instead of the provider’s' })),
});
export type AnalysisResult = Static<typeof AnalysisResponse>;

export const AnalysisQuery = Type.Object({ experimentId: Uuid });
export const AnalysisBody = Type.Object(
  {
    experimentId: Uuid,
    referenceId: Type.Optional(Uuid),
    provider: Type.Optional(Provider),
    question: Type.Optional(Type.String({ maxLength: ANALYSIS_LIMITS.questionLength })),
  },
  { additionalProperties: false },
);
