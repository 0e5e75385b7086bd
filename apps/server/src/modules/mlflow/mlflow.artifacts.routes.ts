import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest, FastifySchema } from 'fastify';
import type { AppContext } from '../../context.js';
import { requireCaller } from '../auth/caller.hook.js';
import { sendDownload } from '../files/files.download.js';
import * as service from './mlflow.artifacts.service.js';
import { ArtifactUploadCutError } from '../artifacts/artifacts.store.js';
import { installMlflowErrorHandler, invalidParameter, MlflowError, refuseOtherMethods } from './mlflow.errors.js';
import { mlflowSchema, readByHand } from './mlflow.openapi.js';
import { fieldsOf, MLFLOW_LIMITS, optString } from './mlflow.request.js';

const Binary = Type.String({ format: 'binary' });
const ArtifactList = Type.Object({
  files: Type.Array(Type.Object({ path: Type.String(), is_dir: Type.Boolean(), file_size: Type.Optional(Type.Integer()) })),
});

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
export function mlflowArtifactRoutes(ctx: AppContext, documented: boolean): FastifyPluginAsyncTypebox {
  return async (app) => {
    installMlflowErrorHandler(app);
    // Bodies are files of any type: never parsed or buffered here; the upload handler streams the raw request.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
    const doc = (summary: string, schema: FastifySchema) => ({
      schema: mlflowSchema(documented, { summary, ...schema }),
      validatorCompiler: readByHand,
    });
    const ArtifactPath = { params: Type.Object({ '*': Type.String({ description: '<experiment id>/<run id>/artifacts/…' }) }) };

    app.get(
      '/artifacts',
      doc("List a directory's files", {
        querystring: Type.Object({ path: Type.Optional(Type.String({ maxLength: MLFLOW_LIMITS.artifactPathLength })) }),
        response: { 200: ArtifactList },
      }),
      async (request) =>
        service.listArtifacts(
          ctx,
          requireCaller(request),
          optString(fieldsOf(request.query, 'query'), 'path', MLFLOW_LIMITS.artifactPathLength) ?? '',
        ),
    );
    app.get(
      '/artifacts/*',
      doc('Download a file (always as an attachment)', {
        ...ArtifactPath,
        response: { 200: { description: 'The file', content: { 'application/octet-stream': { schema: Binary } } } },
      }),
      async (request, reply) => {
        const file = await service.openArtifact(ctx, requireCaller(request), pathOf(request));
        // Always a download of a safe type: an uploaded .html or .svg must never render as this origin's page.
        return sendDownload(request, reply, file, {
          unsatisfiable: (size) =>
            new MlflowError('INVALID_PARAMETER_VALUE', 416, `The range starts past the end of the file (${size} bytes)`),
          gone: () => new MlflowError('RESOURCE_DOES_NOT_EXIST', 404, `No artifact file at '${pathOf(request)}'`),
        });
      },
    );
    app.put(
      '/artifacts/*',
      doc('Upload a file (streamed; replaces one already there)', {
        ...ArtifactPath,
        consumes: ['application/octet-stream'],
        body: Binary,
        response: { 200: Type.Object({}) },
      }),
      async (request) => {
        try {
          await service.uploadArtifact(ctx, requireCaller(request), pathOf(request), request.raw, declaredLength(request));
        } catch (err) {
          // A client that went away mid-upload is not a server fault: nothing was stored, nobody reads the answer.
          if (!(err instanceof ArtifactUploadCutError)) throw err;
          request.log.info({ path: pathOf(request) }, 'artifact upload cut off by the client; nothing stored');
          throw invalidParameter(err.message);
        }
        return {};
      },
    );
    app.delete(
      '/artifacts/*',
      doc('Delete a file or a directory', { ...ArtifactPath, response: { 200: Type.Object({}) } }),
      async (request) => {
        await service.deleteArtifacts(ctx, requireCaller(request), pathOf(request));
        return {};
      },
    );
    refuseOtherMethods(app, '/artifacts', ['GET']);
    refuseOtherMethods(app, '/artifacts/*', ['DELETE', 'GET', 'PUT']);
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
