import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../context.js';
import { responses } from '../../lib/schemas.js';
import { health } from './health.service.js';

export function healthRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/health',
      {
        schema: {
          tags: ['health'],
          security: [], // public: load balancers and the client's feature probe call it without a key
          // Errors too: a presented bad or revoked key is a 401 even here (never silently anonymous).
          response: responses({
            200: Type.Object({
              status: Type.Literal('ok'),
              version: Type.String(),
              database: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres')]),
              dialect: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres')], { description: 'Same as database' }),
              features: Type.Array(Type.String(), {
                description: 'Optional capabilities clients may use, e.g. "metrics.f64-columns" (binary batch columns)',
              }),
            }),
          }),
        },
      },
      async () => health(ctx),
    );
  };
}
