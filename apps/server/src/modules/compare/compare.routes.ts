import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../context.js';
import { badRequest } from '../../errors.js';
import { BAND_LIMITS, COMPARE_LIMITS } from '../../lib/limits.js';
import { refuseMethods } from '../../lib/allowed-methods.js';
import { IdParams, responses } from '../../lib/schemas.js';
import { requireCaller } from '../auth/caller.hook.js';
import { CompareBody, CompareQuerystring, CompareResponse, DirectionsPatch, DirectionsResponse } from './compare.schemas.js';
import { compareExperiments } from './compare.service.js';
import { BandBody, BandResponse } from './band.schemas.js';
import { readBand } from './band.service.js';
import { getDirections, putDirections } from './directions.service.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function splitList(raw: string | undefined, path: string, max: number, check?: RegExp): string[] | undefined {
  if (raw === undefined) return undefined;
  const items = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0 || items.length > max) {
    throw badRequest(`${path} must list 1 to ${max} items`, [{ path, message: 'wrong number of items' }]);
  }
  const bad = check ? items.find((s) => !check.test(s)) : undefined;
  if (bad !== undefined)
    throw badRequest(`${path} holds an invalid id`, [{ path, message: `"${bad.slice(0, 40)}" is not a UUID` }]);
  return items;
}

export function compareRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const description =
      'Bucketed series (as in /experiments/{id}/metrics/series) of several experiments and metrics in one read, ' +
      'with hyperparameters, last/best per metric and Δ against `referenceId`. Experiments the caller cannot read are 404.';
    app.get(
      '/experiments/compare',
      {
        schema: {
          tags: ['compare'],
          description,
          querystring: CompareQuerystring,
          response: responses({ 200: CompareResponse }),
        },
      },
      async (request, reply) => {
        const q = request.query;
        const result = await compareExperiments(ctx, requireCaller(request), {
          ids: splitList(q.ids, 'query.ids', COMPARE_LIMITS.experiments, UUID)!,
          metrics: splitList(q.metrics, 'query.metrics', COMPARE_LIMITS.metrics),
          budget: q.budget ?? 1000,
          from: q.from,
          to: q.to,
          referenceId: q.referenceId,
          x: q.x,
        });
        // Tens of thousands of NaN-or-number unions: the schema serializer is ~5× slower than
        // JSON.stringify here, and the service builds exactly the declared fields (a test pins the shape).
        // Set on success only: an error keeps the error handler's own serializer and type.
        return reply.serializer(JSON.stringify).type('application/json; charset=utf-8').send(result);
      },
    );
    app.post(
      '/experiments/compare',
      {
        config: { readsOnly: true },
        schema: { tags: ['compare'], description, body: CompareBody, response: responses({ 200: CompareResponse }) },
      },
      async (request) =>
        compareExperiments(ctx, requireCaller(request), { ...request.body, budget: request.body.budget ?? 1000 }),
    );

    refuseMethods(app, '/experiments/compare', ['PUT', 'DELETE'], ['GET', 'POST']);

    app.post(
      '/metrics/band',
      {
        config: { readsOnly: true },
        schema: {
          tags: ['compare'],
          description:
            'Mean ± spread of one metric across 2 to 500 runs, per bucket of x: each run contributes the mean of its ' +
            'non-NaN points in the bucket; across runs n, mean, population std, stderr (std/√n), min, max, median, ' +
            'and nanRuns. Any id the caller cannot read is a 404.',
          body: BandBody,
          response: responses({ 200: BandResponse }),
        },
      },
      async (request, reply) => {
        const result = await readBand(ctx, requireCaller(request), {
          ...request.body,
          budget: request.body.budget ?? BAND_LIMITS.defaultBudget,
        });
        // Parallel arrays of NaN-or-number unions: as compare, JSON.stringify over the service's exact shape.
        return reply.serializer(JSON.stringify).type('application/json; charset=utf-8').send(result);
      },
    );

    const tags = ['workspaces'];
    app.get(
      '/workspaces/:id/metric-directions',
      { schema: { tags, params: IdParams, response: responses({ 200: DirectionsResponse }) } },
      async (request) => getDirections(ctx, requireCaller(request), request.params.id),
    );
    app.put(
      '/workspaces/:id/metric-directions',
      {
        schema: {
          tags,
          description: 'Sets (or with null clears) the direction of metrics in this workspace. Editors and above.',
          params: IdParams,
          body: DirectionsPatch,
          response: responses({ 200: DirectionsResponse }),
        },
      },
      async (request) => putDirections(ctx, requireCaller(request), request.params.id, request.body),
    );
  };
}
