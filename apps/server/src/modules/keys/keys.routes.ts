import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../context.js';
import { IdParams, Success, responses } from '../../lib/schemas.js';
import { requireCaller } from '../auth/caller.hook.js';
import { CreatedKey, CreateKeyBody, KeyList } from './keys.schemas.js';
import * as service from './keys.service.js';

export function keysRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['keys'];
    app.get('/keys', { schema: { tags, response: responses({ 200: KeyList }) } }, async (request) => ({
      keys: await service.listKeys(ctx, requireCaller(request)),
    }));
    app.post(
      '/keys',
      {
        schema: {
          tags,
          body: CreateKeyBody,
          response: responses({ 201: CreatedKey }),
        },
      },
      async (request, reply) => reply.status(201).send(await service.createKey(ctx, requireCaller(request).userId, request.body)),
    );
    app.delete('/keys/:id', { schema: { tags, params: IdParams, response: responses({ 200: Success }) } }, async (request) => {
      await service.revokeKey(ctx, requireCaller(request), request.params.id);
      return { success: true as const };
    });
  };
}
