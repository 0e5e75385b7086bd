import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { AppError, notFound } from '../../errors.js';
import { IdParams, mediaResponses, responses, Success } from '../../lib/schemas.js';
import { requireCaller } from '../auth/caller.hook.js';
import { servedContentType } from './files.content.js';
import { sendDownload } from './files.download.js';
import {
  FileList,
  FileListQuery,
  FilePathParams,
  FileResponse,
  MediaList,
  MediaListQuery,
  MediaNameParams,
  MediaPutQuery,
  MediaResponse,
} from './files.schemas.js';
import * as service from './files.service.js';

function declaredLength(request: FastifyRequest): number | undefined {
  const raw = request.headers['content-length'];
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
}

const RAW_BODY = 'The file’s bytes, as the raw request body (any Content-Type; streamed, never buffered)';

/**
 * A run's files and media, Tora's door (MLflow's artifact proxy is the other door to the same
 * files). Bodies are files of any type: never parsed or buffered here, the handlers stream the raw
 * request into the store. Downloads are always attachments of a safe type, with ETag and Range.
 */
export function filesRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['files'];
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

    app.put(
      '/experiments/:id/files/*',
      {
        schema: {
          tags,
          description: `Stores a file of the run at the path (replacing one there). ${RAW_BODY}. Editors only.`,
          params: FilePathParams,
          response: responses({ 200: FileResponse }),
        },
      },
      async (request) =>
        service.putFile(
          ctx,
          requireCaller(request),
          request.params.id,
          request.params['*'],
          request.raw,
          declaredLength(request),
        ),
    );
    app.get(
      '/experiments/:id/files/*',
      {
        schema: {
          tags,
          description:
            'Downloads a file (Content-Disposition: attachment). ETag is the SHA-256; If-None-Match gives 304; one Range gives 206 (416 past the end). HTML, SVG and other active types are sent as application/octet-stream.',
          params: FilePathParams,
          response: mediaResponses(200, 'application/octet-stream', Type.String({ format: 'binary' }), 'The file'),
        },
      },
      async (request, reply) => {
        const file = await service.openFile(ctx, requireCaller(request), request.params.id, request.params['*']);
        return sendDownload(
          request,
          reply,
          {
            path: file.row.path,
            size: file.row.size,
            sha256: file.row.sha256,
            contentType: servedContentType(file.row.content_type),
            open: file.open,
          },
          {
            unsatisfiable: (size) =>
              new AppError('RANGE_NOT_SATISFIABLE', 416, `The range starts past the end of the file (${size} bytes)`),
            gone: () => notFound('FILE_NOT_FOUND', 'File'),
          },
        );
      },
    );
    app.delete(
      '/experiments/:id/files/*',
      {
        schema: {
          tags,
          description: 'Deletes a file, or every file under a directory path. Editors only.',
          params: FilePathParams,
          response: responses({ 200: Success }),
        },
      },
      async (request) => {
        await service.deleteFile(ctx, requireCaller(request), request.params.id, request.params['*']);
        return { success: true as const };
      },
    );
    app.get(
      '/experiments/:id/files',
      {
        schema: {
          tags,
          description: 'The run’s files in path order (at most FILE_LIMITS.listSize; `after` pages on).',
          params: IdParams,
          querystring: FileListQuery,
          response: responses({ 200: FileList }),
        },
      },
      async (request) => service.listFiles(ctx, requireCaller(request), request.params.id, request.query),
    );
    app.put(
      '/experiments/:id/media/*',
      {
        schema: {
          tags,
          description: `Stores an image (PNG, JPEG, WebP or GIF, checked by its bytes; 415 otherwise) as the key's image at \`step\`. ${RAW_BODY}. Editors only.`,
          params: MediaNameParams,
          querystring: MediaPutQuery,
          response: responses({ 200: MediaResponse }),
        },
      },
      async (request) =>
        service.putMedia(
          ctx,
          requireCaller(request),
          request.params.id,
          request.params['*'],
          request.query.step,
          request.raw,
          declaredLength(request),
        ),
    );
    app.get(
      '/experiments/:id/media',
      {
        schema: {
          tags,
          description: 'The run’s images by key and step, from the media index, in (name, step) order.',
          params: IdParams,
          querystring: MediaListQuery,
          response: responses({ 200: MediaList }),
        },
      },
      async (request) => service.listMedia(ctx, requireCaller(request), request.params.id, request.query),
    );
    app.get(
      '/experiments/:id/thumbnails/*',
      {
        schema: {
          tags,
          description:
            'The smaller copy Tora made of the run’s image at the path (WebP; see `thumbnail` in the media listing); 404 while there is none. ETag is the image’s SHA-256; If-None-Match gives 304.',
          params: FilePathParams,
          response: mediaResponses(200, 'image/webp', Type.String({ format: 'binary' }), 'The thumbnail'),
        },
      },
      async (request, reply) => {
        const thumb = await service.thumbnailOf(ctx, requireCaller(request), request.params.id, request.params['*']);
        // Tora made these bytes (never the uploader's), so they are served inline as the image they are.
        const etag = `"${thumb.sha256}.thumb"`;
        reply.header('etag', etag).header('cache-control', 'private, no-cache').header('x-content-type-options', 'nosniff');
        if (request.headers['if-none-match'] === etag) return reply.status(304).send();
        const stream = await thumb.open();
        if (stream === null) throw notFound('FILE_NOT_FOUND', 'Thumbnail');
        return reply.type(thumb.type).send(stream);
      },
    );
  };
}
