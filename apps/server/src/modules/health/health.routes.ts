import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../context.js';
import { responses } from '../../lib/schemas.js';
import { Health } from './health.schemas.js';
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
          response: responses({ 200: Health }),
        },
      },
      async (request) =>
        health(ctx, ({ database, fileStore }) => {
          if (database !== null) request.log.error({ err: database }, 'health check: the database does not answer');
          if (fileStore !== null) {
            const where = ctx.config.artifactStore.kind === 's3' ? `bucket ${ctx.config.artifactStore.bucket}` : 'directory';
            request.log.error({ err: fileStore }, `health check: the file store (${where}) does not answer`);
          }
        }),
    );
  };
}
