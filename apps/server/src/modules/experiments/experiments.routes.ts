import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { refuseMethods } from '../../lib/allowed-methods.js';
import { IdParams, Success, responses } from '../../lib/schemas.js';
import { requireCaller } from '../auth/caller.hook.js';
import {
  BulkBody,
  BulkResult,
  CreateExperimentBody,
  Experiment,
  ExperimentList,
  ExperimentGroups,
  ListQuery,
  ReferenceBody,
  ReferenceParams,
  ReferenceResponse,
  UpdateExperimentBody,
} from './experiments.schemas.js';
import * as service from './experiments.service.js';
import { groupExperiments } from './experiments.groups.service.js';
import * as references from './references.service.js';

export function experimentsRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['experiments'];
    app.post(
      '/experiments',
      {
        schema: {
          tags,
          body: CreateExperimentBody,
          response: responses({ 201: Type.Object({ success: Type.Literal(true), experiment: Experiment }) }),
        },
      },
      async (request, reply) => {
        const experiment = await service.createExperiment(ctx, requireCaller(request), request.body);
        return reply.status(201).send({ success: true as const, experiment });
      },
    );
    app.get(
      '/experiments',
      {
        schema: {
          tags,
          description:
            'A page of experiments matching the filters; with groupBy, those experiments grouped instead ' +
            '(one row per value, with count and mean ± std per metric column).',
          querystring: ListQuery,
          response: responses({ 200: Type.Union([ExperimentList, ExperimentGroups]) }),
        },
      },
      async (request, reply) => {
        const q = request.query;
        const caller = requireCaller(request);
        // Each answer is written by its own shape's serializer: a union would make the serializer
        // validate the answer against both shapes to pick one, and answer 500 where a value passes
        // neither check (a start time of year 275760 is no `date-time`).
        if (q.groupBy === undefined) {
          const page = await service.listExperiments(ctx, caller, q);
          return reply
            .type('application/json; charset=utf-8')
            .serializer(reply.compileSerializationSchema(ExperimentList, '200'))
            .send(page);
        }
        const groups = await groupExperiments(ctx, caller, { ...q, groupBy: q.groupBy });
        return reply
          .type('application/json; charset=utf-8')
          .serializer(reply.compileSerializationSchema(ExperimentGroups, '200'))
          .send(groups);
      },
    );
    // Not /experiments/:id with id "bulk": other methods here are a 405, not a 400 about the id.
    refuseMethods(app, '/experiments/bulk', ['GET', 'PUT', 'DELETE'], ['POST']);
    app.post(
      '/experiments/bulk',
      {
        schema: {
          tags,
          description:
            'Deletes, tags or untags many experiments in one transaction. Every id must be one the caller may edit; otherwise nothing changes (404 for an id the caller cannot see, 403 for a viewer).',
          body: BulkBody,
          response: responses({ 200: BulkResult }),
        },
      },
      async (request) => service.bulkExperiments(ctx, requireCaller(request), request.body),
    );
    app.get(
      '/experiments/:id',
      { schema: { tags, params: IdParams, response: responses({ 200: Experiment }) } },
      async (request) => service.getExperiment(ctx, requireCaller(request), request.params.id),
    );
    const update = {
      schema: { tags, params: IdParams, body: UpdateExperimentBody, response: responses({ 200: Experiment }) },
    };
    const updateHandler = async (request: FastifyRequest<{ Params: { id: string }; Body: typeof UpdateExperimentBody.static }>) =>
      service.updateExperiment(ctx, requireCaller(request), request.params.id, request.body);
    app.put('/experiments/:id', update, updateHandler);
    // The original Tora updates with POST as well.
    app.post('/experiments/:id', update, updateHandler);
    app.delete(
      '/experiments/:id',
      { schema: { tags, params: IdParams, response: responses({ 200: Success }) } },
      async (request) => {
        await service.deleteExperiment(ctx, requireCaller(request), request.params.id);
        return { success: true as const };
      },
    );

    app.get(
      '/experiments/:id/ref',
      { schema: { tags, params: IdParams, response: responses({ 200: ReferenceResponse }) } },
      async (request) => references.getReference(ctx, requireCaller(request), request.params.id),
    );
    app.post(
      '/experiments/:id/ref',
      {
        schema: {
          tags,
          params: IdParams,
          body: ReferenceBody,
          response: responses({ 200: ReferenceResponse }),
        },
      },
      async (request) => references.setReference(ctx, requireCaller(request), request.params.id, request.body.referenceId),
    );
    app.delete(
      '/experiments/:id/ref/:refId',
      { schema: { tags, params: ReferenceParams, response: responses({ 200: Success }) } },
      async (request) => {
        await references.clearReference(ctx, requireCaller(request), request.params.id, request.params.refId);
        return { success: true as const };
      },
    );
  };
}
