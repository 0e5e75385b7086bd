import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest, FastifySchema } from 'fastify';
import type { AppContext } from '../../context.js';
import { requireCaller } from '../auth/caller.hook.js';
import { invalidParameter, refuseOtherMethods } from './mlflow.errors.js';
import * as models from './mlflow.models.service.js';
import { listModelArtifacts } from './mlflow.artifacts.service.js';
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

/** The `datasets` of a logged-model search: each names a dataset, its digest optional (MLflow's 400 without a name). */
function datasetFilters(f: Fields): { name: string; digest?: string }[] {
  const raw = f.datasets ?? [];
  if (!Array.isArray(raw)) throw invalidParameter("Invalid value for parameter 'datasets': must be a list");
  return raw.map((d: unknown, i) => {
    const entry = d !== null && typeof d === 'object' && !Array.isArray(d) ? (d as Fields) : undefined;
    if (entry === undefined) throw invalidParameter(`Invalid value for parameter 'datasets[${i}]': must be an object`);
    const name = optString(entry, 'dataset_name', MLFLOW_LIMITS.datasetNameLength);
    if (!name) throw invalidParameter('`dataset_name` in the `datasets` clause must be specified.');
    const digest = optString(entry, 'dataset_digest', MLFLOW_LIMITS.datasetDigestLength);
    return digest ? { name, digest } : { name };
  });
}

/** The `order_by` of a logged-model search: `[{field_name, ascending?, dataset_name?, dataset_digest?}]`. */
function modelOrders(f: Fields): models.ModelOrder[] {
  const raw = f.order_by ?? [];
  if (!Array.isArray(raw)) throw invalidParameter("Invalid value for parameter 'order_by': must be a list");
  return raw.map((o: unknown, i) => {
    const entry = o !== null && typeof o === 'object' && !Array.isArray(o) ? (o as Fields) : undefined;
    if (entry === undefined) throw invalidParameter(`Invalid value for parameter 'order_by[${i}]': must be an object`);
    const field = optString(entry, 'field_name', MLFLOW_LIMITS.nameFieldLength);
    if (!field) throw invalidParameter(`Missing value for required parameter 'order_by[${i}].field_name'`);
    const ascending = entry.ascending ?? true;
    if (typeof ascending !== 'boolean') {
      throw invalidParameter(
        `Invalid value ${JSON.stringify(ascending)} for parameter 'order_by[${i}].ascending': must be a boolean`,
      );
    }
    const datasetName = optString(entry, 'dataset_name', MLFLOW_LIMITS.datasetNameLength) || undefined;
    const datasetDigest = optString(entry, 'dataset_digest', MLFLOW_LIMITS.datasetDigestLength) || undefined;
    return models.checkModelOrder({
      field,
      ascending,
      ...(datasetName === undefined ? {} : { datasetName }),
      ...(datasetDigest === undefined ? {} : { datasetDigest }),
    });
  });
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
        order_by: Opt(
          Type.Array(
            Type.Object({
              field_name: Type.String({ minLength: 1, maxLength: MLFLOW_LIMITS.nameFieldLength }),
              ascending: Opt(Type.Boolean()),
              dataset_name: Opt(Type.String({ maxLength: MLFLOW_LIMITS.datasetNameLength })),
              dataset_digest: Opt(Type.String({ maxLength: MLFLOW_LIMITS.datasetDigestLength })),
            }),
          ),
        ),
        datasets: Opt(
          Type.Array(
            Type.Object({
              dataset_name: Type.String({ minLength: 1, maxLength: MLFLOW_LIMITS.datasetNameLength }),
              dataset_digest: Opt(Type.String({ maxLength: MLFLOW_LIMITS.datasetDigestLength })),
            }),
          ),
        ),
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
      datasets: datasetFilters(f),
      orderBy: modelOrders(f),
      maxResults: max,
      pageToken: optString(f, 'page_token', MLFLOW_LIMITS.pageTokenLength),
    });
  });
  // Not a model id: GET or DELETE /logged-models/search must not reach /logged-models/:model_id.
  refuseOtherMethods(app, '/logged-models/search', ['POST']);
  app.get('/logged-models/:model_id', doc('Get a logged model', S.LoggedModelResponse, ModelId), async (request) => ({
    model: await models.getLoggedModel(ctx, requireCaller(request), modelId(request)),
  }));
  app.get(
    '/logged-models/:model_id/artifacts/directories',
    {
      ...doc("One directory of a logged model's files (the MLflow UI's listing)", S.ListArtifactsResponse, {
        ...ModelId,
        querystring: Type.Object({ artifact_directory_path: Opt(Type.String({ maxLength: 2000 })) }),
      }),
    },
    async (request) =>
      listModelArtifacts(
        ctx,
        requireCaller(request),
        modelId(request),
        optString(body(request), 'artifact_directory_path', 2000),
      ),
  );
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
