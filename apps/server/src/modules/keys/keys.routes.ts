import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../context.js';
import { IdParams, IsoDate, Success, Uuid, responses } from '../../lib/schemas.js';
import { requireCaller } from '../auth/caller.hook.js';
import * as service from './keys.service.js';

const Key = Type.Object({
  id: Uuid,
  name: Type.String(),
  prefix: Type.String(),
  createdAt: IsoDate,
  lastUsed: Type.Union([IsoDate, Type.Null()]),
  revoked: Type.Boolean(),
  scope: Type.Union([Type.Literal('full'), Type.Literal('read')], {
    description: '`read`: GET requests and the read-only POSTs (compare, analysis) only; anything else is 403',
  }),
  expiresAt: Type.Union([IsoDate, Type.Null()], { description: 'After this the key is refused (401); null: never' }),
});
const CreatedKey = Type.Intersect([
  Key,
  Type.Object({ key: Type.String({ description: 'The plaintext key, shown only in this response' }) }),
]);

export function keysRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['keys'];
    app.get(
      '/keys',
      { schema: { tags, response: responses({ 200: Type.Object({ keys: Type.Array(Key) }) }) } },
      async (request) => ({
        keys: await service.listKeys(ctx, requireCaller(request)),
      }),
    );
    app.post(
      '/keys',
      {
        schema: {
          tags,
          body: Type.Object(
            {
              name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
              scope: Type.Optional(Type.Union([Type.Literal('full'), Type.Literal('read')])),
              expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650, description: 'Default: never expires' })),
            },
            { additionalProperties: false },
          ),
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
