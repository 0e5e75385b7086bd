import { Type, type TSchema } from '@sinclair/typebox';
import { METRIC_LIMITS as LIMITS } from '../../lib/limits.js';
import { IsoDate } from '../../lib/schemas.js';

/** The metric routes' schemas; the number and series shapes are shared by every route that returns metric data (compare). */
export const WireNumber = Type.Union([Type.Number(), Type.Literal('NaN'), Type.Literal('Infinity'), Type.Literal('-Infinity')]);
export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

/**
 * A logged metric name as parseBatch takes it: no control characters, not blank. The blank set is
 * spelled out (JavaScript's trim set) so every regex engine reading the document agrees with it.
 */
const LOGGED_NAME_PATTERN =
  '^[^\\u0000-\\u001f]*[^\\u0000-\\u0020\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff][^\\u0000-\\u001f]*$';

/** What buckets are ranges of. */
export const XAxis = Type.Union(
  [
    Type.Literal('step'),
    Type.Literal('time'),
    Type.Literal('relative'),
    Type.String({ pattern: '^metric:[^\\u0000-\\u001f]+$', maxLength: 7 + LIMITS.maxNameLength }),
  ],
  {
    description:
      "step (default); time: wall time, epoch ms; relative: seconds since the run's first point; " +
      'metric:<name>: the value of another metric logged at the same steps (e.g. metric:epoch). ' +
      "from/to, bucketStart/bucketWidth and every *Step field are then in that axis' units. " +
      'A metric that is not non-decreasing is answered as points (xPoints: true).',
  },
);

export const MetricSummary = Type.Object({
  name: Type.String(),
  count: Type.Integer(),
  firstStep: Type.Number(),
  lastStep: Type.Number(),
  lastValue: WireNumber,
  min: Nullable(WireNumber),
  max: Nullable(WireNumber),
  nanCount: Type.Integer(),
  updatedAt: IsoDate,
});

const Buckets = Type.Object({
  count: Type.Array(Type.Integer()),
  firstStep: Type.Array(Type.Number()),
  firstValue: Type.Array(WireNumber),
  lastStep: Type.Array(Type.Number()),
  lastValue: Type.Array(WireNumber),
  minStep: Type.Array(Nullable(Type.Number())),
  minValue: Type.Array(Nullable(WireNumber)),
  maxStep: Type.Array(Nullable(Type.Number())),
  maxValue: Type.Array(Nullable(WireNumber)),
  nanCount: Type.Array(Type.Integer()),
  firstNanStep: Type.Array(Nullable(Type.Number())),
});

/** One metric downsampled to buckets: the response of GET /experiments/{id}/metrics/series. */
export const BucketedSeries = Type.Object({
  name: Type.String(),
  x: XAxis,
  from: Type.Number(),
  to: Type.Number(),
  budget: Type.Integer(),
  bucketStart: Type.Number({
    description: 'Bucket k covers x in [bucketStart + k·bucketWidth, bucketStart + (k+1)·bucketWidth)',
  }),
  bucketWidth: Type.Number(),
  pointCount: Type.Integer({ description: 'Points inside [from, to]' }),
  xPoints: Type.Optional(
    Type.Boolean({
      description:
        'true when x is a metric that is not non-decreasing: each point is paired with the x logged at its step ' +
        '(points without one are left out); draw the buckets as points, not a line',
    }),
  ),
  summary: MetricSummary,
  buckets: Buckets,
});

export const MetricList = Type.Object({ metrics: Type.Array(MetricSummary) });

// ---- the batch (its body is validated by parseBatch; these schemas document it) ----

const RowPoint = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: LIMITS.maxNameLength, pattern: LOGGED_NAME_PATTERN }),
    // true/false count as 1/0: the original client sends a Python bool as JSON's true/false.
    value: Type.Union([WireNumber, Type.Boolean()]),
    step: Type.Optional(Nullable(Type.Integer({ minimum: LIMITS.minStep, maximum: LIMITS.maxStep }))),
    metadata: Type.Optional(Nullable(Type.Object({}, { additionalProperties: true }))),
    time: Type.Optional(
      Nullable(Type.Number({ minimum: 0, maximum: LIMITS.maxTime, description: 'epoch milliseconds; default: arrival time' })),
    ),
  },
  { additionalProperties: false },
);
/** Binary column: base64 of little-endian float64 values, as long as the series. */
function F64Column(what: string) {
  return Type.String({
    contentEncoding: 'base64',
    description: `${what}: base64 of little-endian float64 values (binary alternative to the JSON array)`,
  });
}

const ColumnarBatch = Type.Object(
  {
    batchId: Type.Optional(Type.String({ minLength: 1, maxLength: LIMITS.maxBatchIdLength })),
    series: Type.Record(
      Type.String({ minLength: 1, maxLength: LIMITS.maxNameLength, pattern: LOGGED_NAME_PATTERN }),
      Type.Object(
        {
          steps: Type.Optional(Type.Array(Nullable(Type.Integer({ minimum: LIMITS.minStep, maximum: LIMITS.maxStep })))),
          values: Type.Optional(Type.Array(Type.Union([WireNumber, Type.Boolean()]))),
          times: Type.Optional(Type.Array(Nullable(Type.Number({ minimum: 0, maximum: LIMITS.maxTime })))),
          metadata: Type.Optional(Type.Array(Nullable(Type.Object({}, { additionalProperties: true })))),
          stepsF64: Type.Optional(F64Column('steps; NaN = null (next step)')),
          valuesF64: Type.Optional(F64Column('values')),
          timesF64: Type.Optional(F64Column('times in epoch milliseconds; NaN = null (arrival time)')),
        },
        {
          additionalProperties: false,
          description: 'values (or valuesF64) is required; each column comes as JSON or as F64, not both',
        },
      ),
    ),
  },
  { additionalProperties: false },
);

export const BatchBody = Type.Union([Type.Array(RowPoint), ColumnarBatch], {
  // Validated by parseBatch (fast, hand-written for batches of 10^5 points); this schema documents it.
  'x-tora-manual-validation': true,
  description:
    `Rows form (the original Tora's) or columnar form. Limits: ${LIMITS.maxPointsPerBatch} points, ` +
    `${LIMITS.maxSeriesPerBatch} metrics and ${LIMITS.maxBodyBytes} bytes per batch (413 beyond), ` +
    `metric names up to ${LIMITS.maxNameLength} characters, metadata up to ${LIMITS.maxMetadataBytes} bytes per point.`,
});

export const SeriesQuery = Type.Object({
  name: Type.String({ minLength: 1, maxLength: LIMITS.maxNameLength }),
  from: Type.Optional(Type.Number({ description: 'first x (inclusive), in the units of x' })),
  to: Type.Optional(Type.Number({ description: 'last x (inclusive), in the units of x' })),
  x: Type.Optional(XAxis),
  budget: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: LIMITS.maxSeriesBudget,
      default: LIMITS.defaultBudget,
      description: 'buckets, e.g. the chart width in pixels',
    }),
  ),
});

export const RawQuery = Type.Object({
  name: Type.String({ minLength: 1, maxLength: LIMITS.maxNameLength }),
  from: Type.Optional(Type.Number()),
  to: Type.Optional(Type.Number()),
  limit: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: LIMITS.maxRawPointsPerResponse,
      default: LIMITS.defaultRawPoints,
      description: `points per page, at most ${LIMITS.maxRawPointsPerResponse} (a bounded response; page on with cursor)`,
    }),
  ),
  cursor: Type.Optional(Type.String({ maxLength: LIMITS.rawCursorLength })),
});

export const BatchHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ maxLength: LIMITS.maxBatchIdLength })),
});
export const BatchResult = Type.Object({ success: Type.Literal(true), count: Type.Integer(), duplicate: Type.Boolean() });

export const RawPoint = Type.Object({
  step: Type.Number(),
  value: WireNumber,
  time: Type.Union([IsoDate, Type.Null()], {
    description: 'null only for a time an older server stored out of range',
  }),
  metadata: Type.Unknown(),
});
export const RawPoints = Type.Object({
  name: Type.String(),
  points: Type.Array(RawPoint),
  nextCursor: Nullable(Type.String()),
});

export const CsvQuery = Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: LIMITS.maxNameLength })) });
