import { Type, type TSchema } from '@sinclair/typebox';
import { IsoDate } from '../../lib/schemas.js';

/** Schemas shared by every route that returns metric data (series reads, compare). */
export const WireNumber = Type.Union([Type.Number(), Type.Literal('NaN'), Type.Literal('Infinity'), Type.Literal('-Infinity')]);
export const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

/**
 * A logged metric name as parseBatch takes it: no control characters, not blank. The blank set is
 * spelled out (JavaScript's trim set) so every regex engine reading the document agrees with it.
 */
export const LOGGED_NAME_PATTERN =
  '^[^\\u0000-\\u001f]*[^\\u0000-\\u0020\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff][^\\u0000-\\u001f]*$';

/** What buckets are ranges of. */
export const XAxis = Type.Union([Type.Literal('step'), Type.Literal('time')], {
  description: 'step (default) or time: bucket by wall time; from/to and every *Step field are then epoch ms',
});

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
  summary: MetricSummary,
  buckets: Buckets,
});
