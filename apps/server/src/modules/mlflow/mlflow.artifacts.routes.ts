import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { requireCaller } from '../auth/caller.hook.js';
import { sendDownload } from '../files/files.download.js';
import * as service from './mlflow.artifacts.service.js';
import { installMlflowErrorHandler, MlflowError } from './mlflow.errors.js';
import { fieldsOf, optString } from './mlflow.request.js';

/** The artifact path of a request: the URL's rest after `/artifacts/`, decoded by the router. */
function pathOf(request: FastifyRequest): string {
  return (request.params as { '*'?: string })['*'] ?? '';
}

function declaredLength(request: FastifyRequest): number | undefined {
  const raw = request.headers['content-length'];
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
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
      // Always a download of a safe type: an uploaded .html or .svg must never render as this origin's page.
      return sendDownload(request, reply, file, {
        unsatisfiable: (size) =>
          new MlflowError('INVALID_PARAMETER_VALUE', 416, `The range starts past the end of the file (${size} bytes)`),
        gone: () => new MlflowError('RESOURCE_DOES_NOT_EXIST', 404, `No artifact file at '${pathOf(request)}'`),
      });
    });
    app.put('/artifacts/*', { schema: { hide: true } }, async (request) => {
      await service.uploadArtifact(ctx, requireCaller(request), pathOf(request), request.raw, declaredLength(request));
      return {};
    });
    app.delete('/artifacts/*', { schema: { hide: true } }, async (request) => {
      await service.deleteArtifacts(ctx, requireCaller(request), pathOf(request));
      return {};
    });
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
