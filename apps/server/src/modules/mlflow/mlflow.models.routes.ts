import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { requireCaller } from '../auth/caller.hook.js';
import { invalidParameter } from './mlflow.errors.js';
import * as models from './mlflow.models.service.js';
import { fieldsOf, keyValues, MLFLOW_LIMITS, optInt, optString, optStrings, string, type Fields } from './mlflow.request.js';
import * as S from './mlflow.schemas.js';

function body(request: FastifyRequest): Fields {
  return fieldsOf(request.method === 'GET' ? request.query : request.body);
}

function modelId(request: FastifyRequest): string {
  const id = (request.params as { model_id?: string }).model_id ?? '';
  if (id === '' || id.length > 200) throw invalidParameter(`Invalid logged model id '${id.slice(0, 50)}'`);
  return id;
}

/**
 * MLflow 3's logged-model endpoints (`/api/2.0/mlflow/logged-models…`), the ones the client calls
 * for `mlflow.<flavor>.log_model` and loading a model back: create, get, finalize (PATCH), delete,
 * search, tags and params. Registered inside the tracking plugin, so they share its error shape.
 */
export function registerLoggedModelRoutes(app: FastifyInstance, ctx: AppContext): void {
  const hide = { hide: true };
  const model = { schema: { ...hide, response: { 200: S.LoggedModelResponse } } };
  const empty = { schema: { ...hide, response: { 200: S.Empty } } };
  app.post('/logged-models', model, async (request) => {
    const f = body(request);
    return {
      model: await models.createLoggedModel(ctx, requireCaller(request), {
        experimentId: string(f, 'experiment_id', 200),
        name: optString(f, 'name', 500),
        modelType: optString(f, 'model_type', 500),
        sourceRunId: optString(f, 'source_run_id', 200) || undefined,
        tags: keyValues(f, 'tags', 'Tag', MLFLOW_LIMITS.tagValueLength),
        params: keyValues(f, 'params', 'Param', MLFLOW_LIMITS.paramValueLength),
      }),
    };
  });
  // A read (runs:/<run>/<name> model URIs are resolved through it): open to read-only API keys.
  const search = { schema: { ...hide, response: { 200: S.SearchLoggedModelsResponse } }, config: { readsOnly: true } };
  app.post('/logged-models/search', search, async (request) => {
    const f = body(request);
    const max = optInt(f, 'max_results') ?? 100;
    if (max < 1 || max > 1000)
      throw invalidParameter(`Invalid value ${max} for parameter 'max_results': it must be between 1 and 1000`);
    return models.searchLoggedModels(ctx, requireCaller(request), {
      experimentIds: optStrings(f, 'experiment_ids'),
      filter: optString(f, 'filter', 10_000),
      maxResults: max,
      pageToken: optString(f, 'page_token', 200),
    });
  });
  app.get('/logged-models/:model_id', model, async (request) => ({
    model: await models.getLoggedModel(ctx, requireCaller(request), modelId(request)),
  }));
  app.patch('/logged-models/:model_id', model, async (request) => ({
    model: await models.finalizeLoggedModel(
      ctx,
      requireCaller(request),
      modelId(request),
      models.modelStatus(body(request).status),
    ),
  }));
  app.delete('/logged-models/:model_id', empty, async (request) => {
    await models.deleteLoggedModel(ctx, requireCaller(request), modelId(request));
    return {};
  });
  app.patch('/logged-models/:model_id/tags', empty, async (request) => {
    const tags = keyValues(body(request), 'tags', 'Tag', MLFLOW_LIMITS.tagValueLength);
    await models.setLoggedModelTags(ctx, requireCaller(request), modelId(request), tags);
    return {};
  });
  app.delete('/logged-models/:model_id/tags/:tag_key', empty, async (request) => {
    const key = (request.params as { tag_key?: string }).tag_key ?? '';
    await models.deleteLoggedModelTag(ctx, requireCaller(request), modelId(request), key);
    return {};
  });
  app.post('/logged-models/:model_id/params', empty, async (request) => {
    const params = keyValues(body(request), 'params', 'Param', MLFLOW_LIMITS.paramValueLength);
    await models.logLoggedModelParams(ctx, requireCaller(request), modelId(request), params);
    return {};
  });
}
