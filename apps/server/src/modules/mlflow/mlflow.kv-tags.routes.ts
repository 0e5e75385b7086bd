import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { AppContext } from '../../context.js';
import { IdParams, responses } from '../../lib/schemas.js';
import { requireCaller } from '../auth/caller.hook.js';
import { KvTagBody, KvTagList, KvTagParams } from './mlflow.kv-tags.schemas.js';
import { deleteKvTag, listKvTags, setKvTag } from './mlflow.kv-tags.service.js';

/** Tora's routes to an experiment's MLflow key/value tags (the experiment page's Tags panel). */
export function kvTagsRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    const tags = ['experiments'];
    app.get(
      '/experiments/:id/kv-tags',
      {
        schema: {
          tags,
          description: "The run's MLflow key/value tags (`mlflow.set_tag`), by key; `system` marks MLflow's own `mlflow.*` tags.",
          params: IdParams,
          response: responses({ 200: KvTagList }),
        },
      },
      async (request) => listKvTags(ctx, requireCaller(request), request.params.id),
    );
    app.put(
      '/experiments/:id/kv-tags/:key',
      {
        schema: {
          tags,
          description: 'Adds or changes one tag (read back by MLflow’s runs/get); editors only; `mlflow.*` keys are refused.',
          params: KvTagParams,
          body: KvTagBody,
          response: responses({ 200: KvTagList }),
        },
      },
      async (request) =>
        setKvTag(ctx, requireCaller(request), {
          experimentId: request.params.id,
          key: request.params.key,
          value: request.body.value,
        }),
    );
    app.delete(
      '/experiments/:id/kv-tags/:key',
      {
        schema: {
          tags,
          description: 'Deletes one tag; editors only; 404 when the run has no such tag.',
          params: KvTagParams,
          response: responses({ 200: KvTagList }),
        },
      },
      async (request) => deleteKvTag(ctx, requireCaller(request), request.params.id, request.params.key),
    );
  };
}
