import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest, FastifySchema } from 'fastify';
import type { AppContext } from '../../context.js';
import { requireCaller } from '../auth/caller.hook.js';
import { invalidParameter, refuseOtherMethods } from './mlflow.errors.js';
import * as models from './mlflow.models.service.js';
import { fieldsOf, keyValues, MLFLOW_LIMITS, optInt, optString, optStrings, string, type Fields } from './mlflow.request.js';
import { mlflowSchema, Opt, readByHand } from './mlflow.openapi.js';
import * as S from './mlflow.schemas.js';

const KeyValueInput = Type.Object({ key: Type.String({ minLength: 1 }), value: Opt(Type.String()) });

function body(request: FastifyRequest): Fields {
  return request.method === 'GET' ? fieldsOf(request.query, 'query') : fieldsOf(request.body);
}

function modelId(request: FastifyRequest): string {
  const id = (request.params as { model_id?: string }).model_id ?? '';
  if (id === '' || id.length > MLFLOW_LIMITS.idLength) throw invalidParameter(`Invalid logged model id '${id.slice(0, 50)}'`);
  return id;
}

/**
 * MLflow 3's logged-model endpoints (`/api/2.0/mlflow/logged-models…`), the ones the client calls
 * for `mlflow.<flavor>.log_model` and loading a model back: create, get, finalize (PATCH), delete,
 * search, tags and params. Registered inside the tracking plugin, so they share its error shape.
 */
export function registerLoggedModelRoutes(app: FastifyInstance, ctx: AppContext, documented: boolean): void {
  const doc = (summary: string, response: TSchema, request: FastifySchema = {}) => ({
    schema: mlflowSchema(documented, { summary, ...request, response: { 200: response } }),
    validatorCompiler: readByHand,
  });
  const ModelId = { params: Type.Object({ model_id: Type.String({ minLength: 1, maxLength: MLFLOW_LIMITS.idLength }) }) };
  app.post(
    '/logged-models',
    doc('Create a logged model (MLflow 3)', S.LoggedModelResponse, {
      body: Type.Object({
        experiment_id: Type.String({ minLength: 1, maxLength: MLFLOW_LIMITS.idLength }),
        name: Opt(Type.String({ maxLength: MLFLOW_LIMITS.loggedModelNameLength })),
        model_type: Opt(Type.String({ maxLength: MLFLOW_LIMITS.loggedModelNameLength })),
        source_run_id: Opt(Type.String({ maxLength: MLFLOW_LIMITS.idLength })),
        tags: Opt(Type.Array(KeyValueInput)),
        params: Opt(Type.Array(KeyValueInput)),
      }),
    }),
    async (request) => {
      const f = body(request);
      return {
        model: await models.createLoggedModel(ctx, requireCaller(request), {
          experimentId: string(f, 'experiment_id', MLFLOW_LIMITS.idLength),
          name: optString(f, 'name', MLFLOW_LIMITS.loggedModelNameLength),
          modelType: optString(f, 'model_type', MLFLOW_LIMITS.loggedModelNameLength),
          sourceRunId: optString(f, 'source_run_id', MLFLOW_LIMITS.idLength) || undefined,
          tags: keyValues(f, 'tags', 'Tag', MLFLOW_LIMITS.tagValueLength),
          params: keyValues(f, 'params', 'Param', MLFLOW_LIMITS.paramValueLength),
        }),
      };
    },
  );
  // A read (runs:/<run>/<name> model URIs are resolved through it): open to read-only API keys.
  const search = {
    ...doc('Search logged models', S.SearchLoggedModelsResponse, {
      body: Type.Object({
        experiment_ids: Opt(Type.Array(Type.String({ maxLength: MLFLOW_LIMITS.idLength }))),
        filter: Opt(Type.String({ maxLength: MLFLOW_LIMITS.filterLength })),
        max_results: Opt(Type.Union([Type.Integer(), Type.String({ pattern: '^(-?[0-9]+)?$' })])),
        page_token: Opt(Type.String({ maxLength: MLFLOW_LIMITS.pageTokenLength })),
      }),
    }),
    config: { readsOnly: true },
  };
  app.post('/logged-models/search', search, async (request) => {
    const f = body(request);
    const max = optInt(f, 'max_results') ?? MLFLOW_LIMITS.loggedModelsDefaultPage;
    if (max < 1 || max > MLFLOW_LIMITS.loggedModelsPerPage)
      throw invalidParameter(
        `Invalid value ${max} for parameter 'max_results': it must be between 1 and ${MLFLOW_LIMITS.loggedModelsPerPage}`,
      );
    return models.searchLoggedModels(ctx, requireCaller(request), {
      experimentIds: optStrings(f, 'experiment_ids'),
      filter: optString(f, 'filter', MLFLOW_LIMITS.filterLength),
      maxResults: max,
      pageToken: optString(f, 'page_token', MLFLOW_LIMITS.pageTokenLength),
    });
  });
  // Not a model id: GET or DELETE /logged-models/search must not reach /logged-models/:model_id.
  refuseOtherMethods(app, '/logged-models/search', ['POST']);
  app.get('/logged-models/:model_id', doc('Get a logged model', S.LoggedModelResponse, ModelId), async (request) => ({
    model: await models.getLoggedModel(ctx, requireCaller(request), modelId(request)),
  }));
  app.patch(
    '/logged-models/:model_id',
    doc('Finalize a logged model (READY or FAILED)', S.LoggedModelResponse, {
      ...ModelId,
      body: Type.Object({ status: Opt(Type.String()) }),
    }),
    async (request) => ({
      model: await models.finalizeLoggedModel(
        ctx,
        requireCaller(request),
        modelId(request),
        models.modelStatus(body(request).status),
      ),
    }),
  );
  app.delete('/logged-models/:model_id', doc('Delete a logged model', S.Empty, ModelId), async (request) => {
    await models.deleteLoggedModel(ctx, requireCaller(request), modelId(request));
    return {};
  });
  app.patch(
    '/logged-models/:model_id/tags',
    doc('Set tags on a logged model', S.Empty, {
      ...ModelId,
      body: Type.Object({ tags: Opt(Type.Array(KeyValueInput)) }),
    }),
    async (request) => {
      const tags = keyValues(body(request), 'tags', 'Tag', MLFLOW_LIMITS.tagValueLength);
      await models.setLoggedModelTags(ctx, requireCaller(request), modelId(request), tags);
      return {};
    },
  );
  app.delete(
    '/logged-models/:model_id/tags/:tag_key',
    doc('Delete a tag of a logged model', S.Empty, {
      params: Type.Object({
        model_id: Type.String({ minLength: 1, maxLength: MLFLOW_LIMITS.idLength }),
        tag_key: Type.String({ minLength: 1 }),
      }),
    }),
    async (request) => {
      const key = (request.params as { tag_key?: string }).tag_key ?? '';
      await models.deleteLoggedModelTag(ctx, requireCaller(request), modelId(request), key);
      return {};
    },
  );
  app.post(
    '/logged-models/:model_id/params',
    doc('Log params of a logged model', S.Empty, {
      ...ModelId,
      body: Type.Object({ params: Opt(Type.Array(KeyValueInput)) }),
    }),
    async (request) => {
      const params = keyValues(body(request), 'params', 'Param', MLFLOW_LIMITS.paramValueLength);
      await models.logLoggedModelParams(ctx, requireCaller(request), modelId(request), params);
      return {};
    },
  );
}
