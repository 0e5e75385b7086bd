import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { requireCaller } from '../auth/caller.hook.js';
import * as service from './mlflow.artifacts.service.js';
import { ArtifactUploadCutError } from '../artifacts/artifacts.store.js';
import { installMlflowErrorHandler, invalidParameter, MlflowError } from './mlflow.errors.js';
import { fieldsOf, optString } from './mlflow.request.js';

/** The artifact path of a request: the URL's rest after `/artifacts/`, decoded by the router. */
function pathOf(request: FastifyRequest): string {
  return (request.params as { '*'?: string })['*'] ?? '';
}

function declaredLength(request: FastifyRequest): number | undefined {
  const raw = request.headers['content-length'];
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
}

/** 405 with `Allow` for the methods a path does not take (MLflow's error shape). */
function methodNotAllowed(app: FastifyInstance, url: string, allow: readonly string[]): void {
  app.route({
    method: ['POST', 'PATCH', 'OPTIONS'],
    url,
    schema: { hide: true },
    handler: async (request, reply) =>
      reply
        .status(405)
        .header('allow', allow.join(', '))
        .send({
          error_code: 'ENDPOINT_NOT_FOUND',
          message: `${request.method} is not allowed on ${request.url.split('?')[0] ?? ''}; use ${allow.join(', ')}`,
        }),
  });
}

/**
 * MLflow's artifact proxy API (what `mlflow-artifacts:/…` URIs resolve to under the tracking URI):
 * upload (PUT, streamed to disk), download (GET), list (`GET /artifacts?path=`) and delete, over
 * Tora's file store. Multipart and presigned uploads are not offered: 501, which the client does
 * not retry, with a message saying so.
 */
export function mlflowArtifactRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    installMlflowErrorHandler(app);
    // Bodies are files of any type: never parsed or buffered here; the upload handler streams the raw request.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

    app.get('/artifacts', { schema: { hide: true } }, async (request) =>
      service.listArtifacts(ctx, requireCaller(request), optString(fieldsOf(request.query), 'path', 2000) ?? ''),
    );
    app.get('/artifacts/*', { schema: { hide: true } }, async (request, reply) => {
      const file = await service.openArtifact(ctx, requireCaller(request), pathOf(request));
      // Always a download: an uploaded .html or .svg must never render as this origin's page.
      return reply
        .type('application/octet-stream')
        .header('content-length', String(file.size))
        .header('content-disposition', 'attachment')
        .send(file.stream);
    });
    app.put('/artifacts/*', { schema: { hide: true } }, async (request) => {
      try {
        await service.uploadArtifact(ctx, requireCaller(request), pathOf(request), request.raw, declaredLength(request));
      } catch (err) {
        // A client that went away mid-upload is not a server fault: nothing was stored, nobody reads the answer.
        if (!(err instanceof ArtifactUploadCutError)) throw err;
        request.log.info({ path: pathOf(request) }, 'artifact upload cut off by the client; nothing stored');
        throw invalidParameter(err.message);
      }
      return {};
    });
    app.delete('/artifacts/*', { schema: { hide: true } }, async (request) => {
      await service.deleteArtifacts(ctx, requireCaller(request), pathOf(request));
      return {};
    });
    methodNotAllowed(app, '/artifacts', ['GET']);
    methodNotAllowed(app, '/artifacts/*', ['DELETE', 'GET', 'PUT']);
    app.all('/*', { schema: { hide: true } }, async (request) => {
      requireCaller(request);
      throw new MlflowError(
        'NOT_IMPLEMENTED',
        501,
        'This Tora server stores artifacts through single-request uploads only: multipart and presigned uploads and downloads are not supported. See docs/mlflow.md.',
      );
    });
  };
}
