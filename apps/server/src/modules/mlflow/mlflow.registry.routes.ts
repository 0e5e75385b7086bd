import type { TSchema } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext, Caller } from '../../context.js';
import { requireCaller } from '../auth/caller.hook.js';
import { invalidParameter } from './mlflow.errors.js';
import { FilterError } from '../experiments/filter.js';
import * as registry from './mlflow.registry.service.js';
import {
  fieldsOf,
  keyValue,
  keyValues,
  MLFLOW_LIMITS,
  optInt,
  optString,
  optStrings,
  string,
  type Fields,
} from './mlflow.request.js';
import { Empty } from './mlflow.schemas.js';
import * as S from './mlflow.registry.schemas.js';

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';
type Handler = (ctx: AppContext, caller: Caller, f: Fields) => Promise<unknown>;

/** GET fields come in the query string; DELETE ones in either (MLflow's client sends a JSON body). */
function fields(request: FastifyRequest): Fields {
  if (request.method === 'GET') return fieldsOf(request.query);
  if (request.method === 'DELETE') return { ...fieldsOf(request.query), ...fieldsOf(request.body) };
  return fieldsOf(request.body);
}

const name = (f: Fields): string => string(f, 'name', MLFLOW_LIMITS.registeredModelNameLength);
const version = (f: Fields): string => {
  const v = f.version;
  if (typeof v === 'number') return String(v);
  return string(f, 'version', MLFLOW_LIMITS.versionLength);
};
const tag = (f: Fields) => {
  const t = keyValue({ key: f.key, value: f.value }, 'Tag', MLFLOW_LIMITS.registryTagValueLength);
  return registry.checkRegistryTag(t.key, t.value);
};
const tags = (f: Fields) => keyValues(f, 'tags', 'Tag', MLFLOW_LIMITS.registryTagValueLength);

function searchQuery(f: Fields) {
  return {
    filter: optString(f, 'filter', MLFLOW_LIMITS.filterLength),
    maxResults: optInt(f, 'max_results'),
    orderBy: optStrings(f, 'order_by'),
    pageToken: optString(f, 'page_token', MLFLOW_LIMITS.pageTokenLength),
  };
}

async function parsing<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof FilterError) throw invalidParameter(`Error on parsing filter: ${err.message}`);
    throw err;
  }
}

/** MLflow's model registry endpoints (ModelRegistryService): method, path, response, handler. */
const ENDPOINTS: [Method, string, TSchema, Handler][] = [
  [
    'POST',
    '/registered-models/create',
    S.RegisteredModelResponse,
    async (ctx, caller, f) => ({
      registered_model: await registry.createRegisteredModel(ctx, caller, {
        name: name(f),
        tags: tags(f),
        description: optString(f, 'description'),
      }),
    }),
  ],
  [
    'GET',
    '/registered-models/get',
    S.RegisteredModelResponse,
    async (ctx, caller, f) => ({ registered_model: await registry.getRegisteredModel(ctx, caller, name(f)) }),
  ],
  [
    'POST',
    '/registered-models/rename',
    S.RegisteredModelResponse,
    async (ctx, caller, f) => ({
      registered_model: await registry.renameRegisteredModel(
        ctx,
        caller,
        name(f),
        string(f, 'new_name', MLFLOW_LIMITS.registeredModelNameLength),
      ),
    }),
  ],
  [
    'PATCH',
    '/registered-models/update',
    S.RegisteredModelResponse,
    async (ctx, caller, f) => ({
      registered_model: await registry.updateRegisteredModel(ctx, caller, name(f), optString(f, 'description') ?? ''),
    }),
  ],
  [
    'DELETE',
    '/registered-models/delete',
    Empty,
    async (ctx, caller, f) => {
      await registry.deleteRegisteredModel(ctx, caller, name(f));
      return {};
    },
  ],
  [
    'GET',
    '/registered-models/search',
    S.SearchRegisteredModelsResponse,
    (ctx, caller, f) => parsing(() => registry.searchRegisteredModels(ctx, caller, searchQuery(f))),
  ],
  [
    'POST',
    '/registered-models/get-latest-versions',
    S.ModelVersionsResponse,
    async (ctx, caller, f) => ({
      model_versions: await registry.getLatestVersions(ctx, caller, name(f), optStrings(f, 'stages')),
    }),
  ],
  [
    'GET',
    '/registered-models/get-latest-versions',
    S.ModelVersionsResponse,
    async (ctx, caller, f) => ({
      model_versions: await registry.getLatestVersions(ctx, caller, name(f), optStrings(f, 'stages')),
    }),
  ],
  [
    'POST',
    '/registered-models/set-tag',
    Empty,
    async (ctx, caller, f) => {
      await registry.setRegisteredModelTag(ctx, caller, name(f), tag(f));
      return {};
    },
  ],
  [
    'DELETE',
    '/registered-models/delete-tag',
    Empty,
    async (ctx, caller, f) => {
      await registry.deleteRegisteredModelTag(ctx, caller, name(f), string(f, 'key', MLFLOW_LIMITS.registryTagKeyLength));
      return {};
    },
  ],
  [
    'POST',
    '/registered-models/alias',
    Empty,
    async (ctx, caller, f) => {
      await registry.setAlias(ctx, caller, name(f), string(f, 'alias', MLFLOW_LIMITS.nameFieldLength), version(f));
      return {};
    },
  ],
  [
    'DELETE',
    '/registered-models/alias',
    Empty,
    async (ctx, caller, f) => {
      await registry.deleteAlias(ctx, caller, name(f), string(f, 'alias', MLFLOW_LIMITS.nameFieldLength));
      return {};
    },
  ],
  [
    'GET',
    '/registered-models/alias',
    S.ModelVersionResponse,
    async (ctx, caller, f) => ({
      model_version: await registry.versionByAlias(ctx, caller, name(f), string(f, 'alias', MLFLOW_LIMITS.nameFieldLength)),
    }),
  ],
  [
    'POST',
    '/model-versions/create',
    S.ModelVersionResponse,
    async (ctx, caller, f) => ({
      model_version: await registry.createModelVersion(ctx, caller, {
        name: name(f),
        source: string(f, 'source', MLFLOW_LIMITS.uriLength),
        runId: optString(f, 'run_id', MLFLOW_LIMITS.idLength) || undefined,
        tags: tags(f),
        runLink: optString(f, 'run_link', MLFLOW_LIMITS.uriLength),
        description: optString(f, 'description'),
        modelId: optString(f, 'model_id', MLFLOW_LIMITS.idLength) || undefined,
      }),
    }),
  ],
  [
    'GET',
    '/model-versions/get',
    S.ModelVersionResponse,
    async (ctx, caller, f) => ({ model_version: await registry.getModelVersion(ctx, caller, name(f), version(f)) }),
  ],
  [
    'PATCH',
    '/model-versions/update',
    S.ModelVersionResponse,
    async (ctx, caller, f) => ({
      model_version: await registry.updateModelVersion(ctx, caller, name(f), version(f), optString(f, 'description')),
    }),
  ],
  [
    'POST',
    '/model-versions/transition-stage',
    S.ModelVersionResponse,
    async (ctx, caller, f) => {
      const archive = f.archive_existing_versions ?? false;
      if (typeof archive !== 'boolean' && archive !== 'true' && archive !== 'false') {
        throw invalidParameter("Invalid value for parameter 'archive_existing_versions': must be true or false");
      }
      return {
        model_version: await registry.transitionStage(ctx, caller, {
          name: name(f),
          version: version(f),
          stage: string(f, 'stage', MLFLOW_LIMITS.stageLength),
          archiveExisting: archive === true || archive === 'true',
        }),
      };
    },
  ],
  [
    'DELETE',
    '/model-versions/delete',
    Empty,
    async (ctx, caller, f) => {
      await registry.deleteModelVersion(ctx, caller, name(f), version(f));
      return {};
    },
  ],
  [
    'GET',
    '/model-versions/search',
    S.SearchModelVersionsResponse,
    (ctx, caller, f) => parsing(() => registry.searchModelVersions(ctx, caller, searchQuery(f))),
  ],
  [
    'GET',
    '/model-versions/get-download-uri',
    S.DownloadUriResponse,
    async (ctx, caller, f) => ({ artifact_uri: await registry.downloadUri(ctx, caller, name(f), version(f)) }),
  ],
  [
    'POST',
    '/model-versions/set-tag',
    Empty,
    async (ctx, caller, f) => {
      await registry.setVersionTag(ctx, caller, name(f), version(f), tag(f));
      return {};
    },
  ],
  [
    'DELETE',
    '/model-versions/delete-tag',
    Empty,
    async (ctx, caller, f) => {
      await registry.deleteVersionTag(ctx, caller, name(f), version(f), string(f, 'key', MLFLOW_LIMITS.registryTagKeyLength));
      return {};
    },
  ],
];

/**
 * MLflow's model registry (`/api/2.0/mlflow/registered-models/…`, `/model-versions/…`): what
 * `mlflow.register_model`, `log_model(registered_model_name=…)` and loading `models:/name/1` or
 * `models:/name@alias` call. Registered inside the tracking plugin, so they share its error shape.
 */
export function registerRegistryRoutes(app: FastifyInstance, ctx: AppContext): void {
  for (const [method, path, response, handler] of ENDPOINTS) {
    app.route({
      method,
      url: path,
      schema: { hide: true, response: { 200: response } },
      // get-latest-versions is a read sent as POST: open to read-only keys too.
      config: path === '/registered-models/get-latest-versions' ? { readsOnly: true } : {},
      handler: async (request: FastifyRequest) => handler(ctx, requireCaller(request), fields(request)),
    });
  }
}
