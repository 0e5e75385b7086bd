import { Type } from '@sinclair/typebox';
import { COMPARE_LIMITS, METRIC_LIMITS } from '../../lib/limits.js';
import { Direction, Status, Uuid } from '../../lib/schemas.js';

const { experiments: MAX_COMPARE_EXPERIMENTS, metrics: MAX_COMPARE_METRICS } = COMPARE_LIMITS;
import { BucketedSeries, Nullable, WireNumber, XAxis } from '../metrics/metrics.schemas.js';

export const Delta = Type.Object({
  last: Nullable(Type.Number()),
  lastPct: Nullable(Type.Number({ description: '100 · (last − reference last) / |reference last|' })),
  best: Nullable(Type.Number()),
  bestPct: Nullable(Type.Number()),
  bestIsBetter: Nullable(Type.Boolean()),
});

export const CompareMetric = Type.Object({
  name: Type.String(),
  count: Type.Integer(),
  last: WireNumber,
  lastStep: Type.Number(),
  best: Nullable(WireNumber),
  bestStep: Nullable(Type.Number()),
  delta: Type.Union([Delta, Type.Null()], {
    description: 'Against the reference experiment; null without one or when it lacks the metric',
  }),
  series: BucketedSeries,
});

export const CompareExperiment = Type.Object({
  id: Uuid,
  name: Type.String(),
  workspaceId: Uuid,
  status: Status,
  referenceId: Nullable(Uuid),
  hyperparams: Type.Array(
    Type.Object({ key: Type.String(), value: Nullable(Type.Union([Type.String(), Type.Number(), Type.Boolean()])) }),
  ),
  group: Type.Union([Type.String(), Type.Null()], {
    description: "The run's group (a sweep's name): what the compare page can band by",
  }),
  runTags: Type.Record(Type.String(), Type.String(), {
    description: "The run's MLflow tags (key → value), so the compare page can band runs by a tag",
  }),
  metrics: Type.Array(CompareMetric),
});

export const CompareResponse = Type.Object({
  budget: Type.Integer(),
  referenceId: Nullable(Uuid),
  metrics: Type.Array(Type.Object({ name: Type.String(), direction: Nullable(Direction) })),
  availableMetrics: Type.Array(Type.String(), {
    description:
      "Every metric the compared experiments logged, the user's first (most shared first) and system/* last: what `metrics` can name",
  }),
  experiments: Type.Array(CompareExperiment),
});

const Budget = Type.Integer({
  minimum: 1,
  maximum: COMPARE_LIMITS.maxBudget,
  default: COMPARE_LIMITS.defaultBudget,
  description: 'buckets per series',
});
const MetricName = Type.String({ minLength: 1, maxLength: METRIC_LIMITS.maxNameLength });

const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';

export const CompareQuerystring = Type.Object({
  ids: Type.String({
    minLength: 1,
    maxLength: MAX_COMPARE_EXPERIMENTS * 37,
    pattern: `^ *${UUID} *(, *${UUID} *){0,${MAX_COMPARE_EXPERIMENTS - 1}}$`,
    description: `Comma-separated experiment ids (at most ${MAX_COMPARE_EXPERIMENTS})`,
  }),
  metrics: Type.Optional(
    Type.String({
      maxLength: MAX_COMPARE_METRICS * (METRIC_LIMITS.maxNameLength + 1),
      description: 'Comma-separated metric names; default: the (up to 20) metrics most shared by the experiments',
    }),
  ),
  budget: Type.Optional(Budget),
  x: Type.Optional(XAxis),
  from: Type.Optional(Type.Number({ description: 'first step (inclusive)' })),
  to: Type.Optional(Type.Number({ description: 'last step (inclusive)' })),
  referenceId: Type.Optional(Uuid),
});

export const CompareBody = Type.Object(
  {
    ids: Type.Array(Uuid, { minItems: 1, maxItems: MAX_COMPARE_EXPERIMENTS }),
    metrics: Type.Optional(Type.Array(MetricName, { minItems: 1, maxItems: MAX_COMPARE_METRICS })),
    budget: Type.Optional(Budget),
    x: Type.Optional(XAxis),
    from: Type.Optional(Type.Number()),
    to: Type.Optional(Type.Number()),
    referenceId: Type.Optional(Uuid),
  },
  { additionalProperties: false },
);

export const DirectionsResponse = Type.Object({
  directions: Type.Record(Type.String(), Direction, {
    description: 'Overrides set in this workspace; other metrics use the direction inferred from their name',
  }),
  inferred: Type.Record(Type.String(), Nullable(Direction), {
    description: 'The direction inferred from the name, for every metric of the workspace and every overridden name',
  }),
});

export const DirectionsPatch = Type.Record(MetricName, Nullable(Direction), {
  description: '{metric: "min" | "max"} sets an override, {metric: null} removes it',
});
