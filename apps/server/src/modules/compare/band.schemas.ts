import { Type } from '@sinclair/typebox';
import { BAND_LIMITS, METRIC_LIMITS } from '../../lib/limits.js';
import { Uuid } from '../../lib/schemas.js';
import { Nullable, WireNumber, XAxis } from '../metrics/metrics.schemas.js';

export const BandBody = Type.Object(
  {
    experimentIds: Type.Array(Uuid, { minItems: BAND_LIMITS.minExperiments, maxItems: BAND_LIMITS.maxExperiments }),
    name: Type.String({ minLength: 1, maxLength: METRIC_LIMITS.maxNameLength }),
    x: Type.Optional(XAxis),
    budget: Type.Optional(
      Type.Integer({ minimum: 1, maximum: BAND_LIMITS.maxBudget, default: BAND_LIMITS.defaultBudget, description: 'buckets' }),
    ),
    from: Type.Optional(Type.Number({ description: 'first x (inclusive), in the units of x' })),
    to: Type.Optional(Type.Number({ description: 'last x (inclusive), in the units of x' })),
  },
  { additionalProperties: false },
);

const Figures = Type.Array(Nullable(WireNumber), { description: 'null where no run contributed (n = 0)' });

export const BandResponse = Type.Object({
  name: Type.String(),
  x: XAxis,
  budget: Type.Integer(),
  from: Type.Number(),
  to: Type.Number(),
  bucketStart: Type.Number({
    description: 'Bucket k covers x in [bucketStart + k·bucketWidth, bucketStart + (k+1)·bucketWidth)',
  }),
  bucketWidth: Type.Number(),
  bucket: Type.Array(Type.Integer(), { description: 'k of each non-empty bucket; every array below is parallel to it' }),
  n: Type.Array(Type.Integer({ description: 'runs with a non-NaN point in the bucket' })),
  mean: Figures,
  std: Type.Array(Nullable(WireNumber), { description: 'population standard deviation (1/n) of the runs’ means' }),
  stderr: Type.Array(Nullable(WireNumber), { description: 'std / √n' }),
  min: Figures,
  max: Figures,
  median: Figures,
  nanRuns: Type.Array(Type.Integer(), { description: 'runs with a NaN point in the bucket (NaN is never averaged)' }),
  experiments: Type.Array(Uuid, { description: 'the runs that have the metric (and the x metric), in the order asked' }),
});
