import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { sql } from 'kysely';
import type { AppContext } from '../../context.js';
import { VERSION } from '../../version.js';

export function healthRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/health',
      {
        schema: {
          tags: ['health'],
          response: {
            200: Type.Object({
              status: Type.Literal('ok'),
              version: Type.String(),
              database: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres')]),
              dialect: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres')], { description: 'Same as database' }),
            }),
          },
        },
      },
      async () => {
        await sql`select 1`.execute(ctx.db);
        return { status: 'ok' as const, version: VERSION, database: ctx.dialect.name, dialect: ctx.dialect.name };
      },
    );
  };
}
