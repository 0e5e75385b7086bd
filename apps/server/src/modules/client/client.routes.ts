import fs from 'node:fs';
import path from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AppContext } from '../../context.js';
import { AppError, notFound } from '../../errors.js';
import { mediaResponses, responses } from '../../lib/schemas.js';
import { publicOrigin } from '../security/allowed-hosts.js';
import { ClientInfo, WheelParams } from './client.schemas.js';

/**
 * The Python client this server was built with, as a wheel (scripts/build-client-wheel.mjs), so
 * `pip install http://<server>/api/client/<wheel>` installs the matching client from the server
 * itself. Public like /api/health: it is the open-source client, no workspace data.
 */
function builtWheel(ctx: AppContext): string | null {
  const dir = ctx.config.clientDir;
  if (dir === null || !fs.existsSync(dir)) return null;
  return fs.readdirSync(dir).find((f) => f.endsWith('.whl')) ?? null;
}

function missing(): AppError {
  return new AppError(
    'NOT_FOUND',
    404,
    'This server was built without the Python client wheel: run `npm run build -w apps/server`',
  );
}

export function clientRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/client',
      {
        schema: {
          tags: ['client'],
          summary: 'Where to pip install the Python client matching this server',
          security: [], // public, like /api/health: open-source code, no workspace data
          response: responses({
            200: ClientInfo,
          }),
        },
      },
      async (request) => {
        const file = builtWheel(ctx);
        if (file === null) throw missing();
        const [dist = '', version = ''] = file.split('-');
        const url = `${publicOrigin(request, ctx.config)}/api/client/${file}`;
        return { name: dist.replace(/_/g, '-'), version, file, url, install: `pip install ${url}` };
      },
    );

    app.get(
      '/client/:file',
      {
        schema: {
          tags: ['client'],
          summary: 'The Python client wheel',
          security: [],
          params: WheelParams,
          response: mediaResponses(200, 'application/zip', Type.String({ format: 'binary' }), 'The wheel (a zip file)'),
        },
      },
      async (request, reply) => {
        const file = builtWheel(ctx);
        if (file === null) throw missing();
        if (request.params.file !== file) throw notFound('NOT_FOUND', `Wheel ${request.params.file}`);
        const body = await fs.promises.readFile(path.join(ctx.config.clientDir!, file));
        return reply.type('application/zip').header('content-disposition', `attachment; filename="${file}"`).send(body);
      },
    );
  };
}
