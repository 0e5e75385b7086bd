import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../context.js';
import { IdParams, mediaResponses, responses } from '../../lib/schemas.js';
import { requireCaller } from '../auth/caller.hook.js';
import { METRIC_LIMITS as LIMITS } from '../../lib/limits.js';
import { parseBatch } from './ingest.js';
import { ingestBatch } from './metrics.ingest.service.js';
import { readSeriesOnAxis } from './metrics.axes.service.js';
import { exportCsv, listMetrics, readRaw } from './metrics.read.service.js';
import {
  BatchBody,
  BatchHeaders,
  BatchResult,
  BucketedSeries,
  CsvQuery,
  MetricList,
  RawPoints,
  RawQuery,
  SeriesQuery,
} from './metrics.schemas.js';

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
          headers: BatchHeaders,
          body: BatchBody,
          response: responses({
            201: BatchResult,
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
      { schema: { tags, params: IdParams, response: responses({ 200: MetricList }) } },
      async (request) => ({ metrics: await listMetrics(ctx, requireCaller(request), request.params.id) }),
    );

    app.get(
      '/experiments/:id/metrics/series',
      {
        schema: {
          tags,
          description:
            'One metric downsampled to `budget` buckets of x (step by default; time, relative or metric:<name>), ' +
            'each with first/last/min/max (and their x) and NaN count.',
          params: IdParams,
          querystring: SeriesQuery,
          response: responses({
            200: BucketedSeries,
          }),
        },
      },
      async (request) => {
        const q = request.query;
        return readSeriesOnAxis(ctx, requireCaller(request), request.params.id, {
          ...q,
          budget: q.budget ?? LIMITS.defaultBudget,
        });
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
            200: RawPoints,
          }),
        },
      },
      async (request) => {
        const q = request.query;
        return readRaw(ctx, requireCaller(request), request.params.id, { ...q, limit: q.limit ?? LIMITS.defaultRawPoints });
      },
    );

    app.get(
      '/experiments/:id/metrics/csv',
      {
        schema: {
          tags,
          description: 'Every point (or one metric’s) as CSV: name,step,value,time,metadata.',
          params: IdParams,
          querystring: CsvQuery,
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
