import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../context.js';
import { IdParams, IsoDate, mediaResponses, responses } from '../../lib/schemas.js';
import { requireCaller } from '../auth/caller.hook.js';
import { LIMITS, parseBatch } from './ingest.js';
import { ingestBatch } from './metrics.ingest.service.js';
import { readBuckets } from './metrics.buckets.service.js';
import { exportCsv, listMetrics, readRaw } from './metrics.read.service.js';
import { BucketedSeries, LOGGED_NAME_PATTERN, MetricSummary, Nullable, WireNumber, XAxis } from './metrics.schemas.js';

const RowPoint = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: LIMITS.maxNameLength, pattern: LOGGED_NAME_PATTERN }),
    // true/false count as 1/0: the original client sends a Python bool as JSON's true/false.
    value: Type.Union([WireNumber, Type.Boolean()]),
    step: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: LIMITS.maxStep }))),
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
          steps: Type.Optional(Type.Array(Nullable(Type.Integer({ minimum: 0, maximum: LIMITS.maxStep })))),
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

const BatchBody = Type.Union([Type.Array(RowPoint), ColumnarBatch], {
  // Validated by parseBatch (fast, hand-written for batches of 10^5 points); this schema documents it.
  'x-tora-manual-validation': true,
  description:
    `Rows form (the original Tora's) or columnar form. Limits: ${LIMITS.maxPointsPerBatch} points, ` +
    `${LIMITS.maxSeriesPerBatch} metrics and ${LIMITS.maxBodyBytes} bytes per batch (413 beyond), ` +
    `metric names up to ${LIMITS.maxNameLength} characters, metadata up to ${LIMITS.maxMetadataBytes} bytes per point.`,
});

const SeriesQuery = Type.Object({
  name: Type.String({ minLength: 1, maxLength: LIMITS.maxNameLength }),
  from: Type.Optional(Type.Number({ description: 'first step (inclusive)' })),
  to: Type.Optional(Type.Number({ description: 'last step (inclusive)' })),
  x: Type.Optional(XAxis),
  budget: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 20_000, default: 1000, description: 'buckets, e.g. the chart width in pixels' }),
  ),
});

const RawQuery = Type.Object({
  name: Type.String({ minLength: 1, maxLength: LIMITS.maxNameLength }),
  from: Type.Optional(Type.Number()),
  to: Type.Optional(Type.Number()),
  limit: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: LIMITS.maxRawPointsPerResponse,
      default: 10_000,
      description: `points per page, at most ${LIMITS.maxRawPointsPerResponse} (a bounded response; page on with cursor)`,
    }),
  ),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
});

export function metricsRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['metrics'];
    app.post(
      '/experiments/:id/metrics/batch',
      {
        bodyLimit: LIMITS.maxBodyBytes,
        // parseBatch checks names, batch ids and metadata for NUL and lone surrogates itself.
        config: { bodyTextChecked: true },
        schema: {
          tags,
          params: IdParams,
          headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: LIMITS.maxBatchIdLength })) }),
          body: BatchBody,
          response: responses({
            201: Type.Object({ success: Type.Literal(true), count: Type.Integer(), duplicate: Type.Boolean() }),
          }),
        },
      },
      async (request, reply) => {
        const caller = requireCaller(request);
        const batch = parseBatch(request.body, request.headers['idempotency-key']);
        const result = await ingestBatch(ctx, caller, request.params.id, batch);
        return reply.status(201).send(result);
      },
    );

    app.get(
      '/experiments/:id/metrics',
      { schema: { tags, params: IdParams, response: responses({ 200: Type.Object({ metrics: Type.Array(MetricSummary) }) }) } },
      async (request) => ({ metrics: await listMetrics(ctx, requireCaller(request), request.params.id) }),
    );

    app.get(
      '/experiments/:id/metrics/series',
      {
        schema: {
          tags,
          description:
            'One metric downsampled to `budget` step buckets, each with first/last/min/max (and their steps) and NaN count.',
          params: IdParams,
          querystring: SeriesQuery,
          response: responses({
            200: BucketedSeries,
          }),
        },
      },
      async (request) => {
        const q = request.query;
        return readBuckets(ctx, requireCaller(request), request.params.id, { ...q, budget: q.budget ?? 1000 });
      },
    );

    app.get(
      '/experiments/:id/metrics/raw',
      {
        schema: {
          tags,
          description: 'Raw points of one metric in logging order, paged with `cursor`.',
          params: IdParams,
          querystring: RawQuery,
          response: responses({
            200: Type.Object({
              name: Type.String(),
              points: Type.Array(
                Type.Object({
                  step: Type.Number(),
                  value: WireNumber,
                  time: Type.Union([IsoDate, Type.Null()], {
                    description: 'null only for a time an older server stored out of range',
                  }),
                  metadata: Type.Unknown(),
                }),
              ),
              nextCursor: Nullable(Type.String()),
            }),
          }),
        },
      },
      async (request) => {
        const q = request.query;
        return readRaw(ctx, requireCaller(request), request.params.id, { ...q, limit: q.limit ?? 10_000 });
      },
    );

    app.get(
      '/experiments/:id/metrics/csv',
      {
        schema: {
          tags,
          description: 'Every point (or one metric’s) as CSV: name,step,value,time,metadata.',
          params: IdParams,
          querystring: Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: LIMITS.maxNameLength })) }),
          response: mediaResponses(200, 'text/csv', Type.String(), 'CSV: name,step,value,time,metadata'),
        },
      },
      async (request, reply) => {
        const rows = await exportCsv(ctx, requireCaller(request), request.params.id, request.query.name);
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${request.params.id}.csv"`)
          .send(Readable.from(rows));
      },
    );
  };
}
