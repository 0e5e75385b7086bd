import { encodeOffset } from '../../lib/page-token.js';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { TSchema } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext, Caller } from '../../context.js';
import { requireCaller } from '../auth/caller.hook.js';
import { mlflowArtifactRoutes } from './mlflow.artifacts.routes.js';
import { listRunArtifacts, sweepStaleParts } from './mlflow.artifacts.service.js';
import * as datasets from './mlflow.datasets.service.js';
import { defaultWorkspaceOf, withDefaultExperiment } from './mlflow.default-experiment.js';
import { installMlflowErrorHandler, invalidParameter, invalidValue, mlflowUnrouted } from './mlflow.errors.js';
import * as experiments from './mlflow.experiments.service.js';
import { FilterError, type TrashView } from '../experiments/filter.js';
import { logBatch, metricHistory, metricInput } from './mlflow.logging.service.js';
import { bulkInterval } from './mlflow.interval.service.js';
import { registerLoggedModelRoutes } from './mlflow.models.routes.js';
import { registerRegistryRoutes } from './mlflow.registry.routes.js';
import { readByHand, trackingSchema } from './mlflow.openapi.js';
import {
  fieldsOf,
  JsonText,
  keepJsonText,
  keyValue,
  keyValues,
  MLFLOW_LIMITS,
  optInt,
  optString,
  optStrings,
  runId,
  string,
  type Fields,
} from './mlflow.request.js';
import * as runs from './mlflow.runs.service.js';
import * as S from './mlflow.schemas.js';

type Handler = (ctx: AppContext, caller: Caller, f: Fields) => Promise<unknown>;

function viewType(f: Fields): TrashView {
  const v = optString(f, 'view_type', 20) ?? optString(f, 'run_view_type', 20) ?? 'ACTIVE_ONLY';
  if (v === 'ACTIVE_ONLY') return 'live';
  if (v === 'DELETED_ONLY') return 'trashed';
  if (v === 'ALL') return 'all';
  throw invalidParameter(`Invalid view type '${v}': use ACTIVE_ONLY, DELETED_ONLY or ALL`);
}

function maxResults(f: Fields, dflt: number, max: number = MLFLOW_LIMITS.maxResults): number {
  const n = optInt(f, 'max_results') ?? dflt;
  if (n < 1 || n > max) throw invalidValue(n, 'max_results', `max_results must be between 1 and ${max}.`);
  return n;
}

function status(f: Fields): runs.MlflowStatus | undefined {
  const s = optString(f, 'status', 20);
  if (s === undefined) return undefined;
  if (!(runs.MLFLOW_STATUSES as readonly string[]).includes(s)) {
    throw invalidParameter(`Invalid value '${s}' for parameter 'status': use one of ${runs.MLFLOW_STATUSES.join(', ')}`);
  }
  return s as runs.MlflowStatus;
}

/** A list of ids, each once (clients may repeat one): MLflow's 400 past `max` distinct ids. */
function distinctIds(f: Fields, name: string, max: number): string[] {
  const ids = [...new Set(optStrings(f, name))];
  if (ids.length > max) {
    throw invalidParameter(`Parameter '${name}' names ${ids.length} distinct ids; the limit is ${max} per request`);
  }
  return ids;
}

/** Filter and order_by mistakes are the caller's: MLflow answers them with INVALID_PARAMETER_VALUE. */
async function parsing<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof FilterError) throw invalidParameter(`Error on parsing filter or order_by: ${err.message}`);
    throw err;
  }
}

const searchExperiments: Handler = (ctx, caller, f) =>
  parsing(async () => {
    const page = await experiments.searchExperiments(ctx, caller, {
      view: viewType(f),
      filter: optString(f, 'filter', MLFLOW_LIMITS.filterLength),
      maxResults: maxResults(f, MLFLOW_LIMITS.searchDefaultPage),
      offset: runs.decodeToken(optString(f, 'page_token', MLFLOW_LIMITS.pageTokenLength)),
      orderBy: optStrings(f, 'order_by'),
    });
    return page.nextOffset === null
      ? { experiments: page.experiments }
      : { experiments: page.experiments, next_page_token: encodeOffset(page.nextOffset) };
  });

/** Every MLflow tracking endpoint: method, path under the prefix, response schema, handler. */
const ENDPOINTS: [method: 'GET' | 'POST', path: string, response: TSchema, handler: Handler][] = [
  [
    'POST',
    '/experiments/create',
    S.CreateExperimentResponse,
    async (ctx, caller, f) => {
      // Checked as MLflow checks it (a string), then not used: Tora keeps every experiment's files itself.
      optString(f, 'artifact_location', MLFLOW_LIMITS.uriLength);
      return {
        experiment_id: await experiments.createExperiment(ctx, caller, {
          name: string(f, 'name'),
          tags: keyValues(f, 'tags', 'Tag', MLFLOW_LIMITS.experimentTagValueLength),
        }),
      };
    },
  ],
  [
    'GET',
    '/experiments/get',
    S.ExperimentResponse,
    async (ctx, caller, f) => ({
      experiment: await experiments.getExperiment(ctx, caller, string(f, 'experiment_id', MLFLOW_LIMITS.idLength)),
    }),
  ],
  [
    'GET',
    '/experiments/get-by-name',
    S.ExperimentResponse,
    async (ctx, caller, f) => ({
      experiment: await experiments.getExperimentByName(ctx, caller, string(f, 'experiment_name', MLFLOW_LIMITS.nameFieldLength)),
    }),
  ],
  ['GET', '/experiments/search', S.SearchExperimentsResponse, searchExperiments],
  ['POST', '/experiments/search', S.SearchExperimentsResponse, searchExperiments],
  [
    'POST',
    '/experiments/update',
    S.Empty,
    async (ctx, caller, f) => {
      const id = string(f, 'experiment_id', MLFLOW_LIMITS.idLength);
      const name = optString(f, 'new_name', MLFLOW_LIMITS.nameFieldLength);
      // Nothing to change still names an experiment the caller must be able to change.
      if (name === undefined) await experiments.workspaceFor(ctx, caller, id, 'owner');
      else await experiments.renameExperiment(ctx, caller, id, name);
      return {};
    },
  ],
  [
    'POST',
    '/experiments/delete',
    S.Empty,
    async (ctx, caller, f) => {
      await experiments.setExperimentDeleted(ctx, caller, string(f, 'experiment_id', MLFLOW_LIMITS.idLength), true);
      return {};
    },
  ],
  [
    'POST',
    '/experiments/restore',
    S.Empty,
    async (ctx, caller, f) => {
      await experiments.setExperimentDeleted(ctx, caller, string(f, 'experiment_id', MLFLOW_LIMITS.idLength), false);
      return {};
    },
  ],
  [
    'POST',
    '/experiments/set-experiment-tag',
    S.Empty,
    async (ctx, caller, f) => {
      await experiments.setExperimentTag(
        ctx,
        caller,
        string(f, 'experiment_id', MLFLOW_LIMITS.idLength),
        keyValue(f, 'Tag', MLFLOW_LIMITS.experimentTagValueLength),
      );
      return {};
    },
  ],
  [
    'POST',
    '/experiments/delete-experiment-tag',
    S.Empty,
    async (ctx, caller, f) => {
      await experiments.deleteExperimentTag(
        ctx,
        caller,
        string(f, 'experiment_id', MLFLOW_LIMITS.idLength),
        string(f, 'key', MLFLOW_LIMITS.nameFieldLength),
      );
      return {};
    },
  ],
  [
    'POST',
    '/runs/create',
    S.RunResponse,
    async (ctx, caller, f) => {
      // MLflow's deprecated user_id is not stored (the run's user is its mlflow.user tag), but it is still a string.
      optString(f, 'user_id', MLFLOW_LIMITS.tagValueLength);
      return {
        run: await runs.createRun(ctx, caller, {
          experimentId: optString(f, 'experiment_id', MLFLOW_LIMITS.idLength) || experiments.DEFAULT_EXPERIMENT_ID,
          runName: optString(f, 'run_name', MLFLOW_LIMITS.nameFieldLength),
          startTime: optInt(f, 'start_time'),
          tags: keyValues(f, 'tags', 'Tag', MLFLOW_LIMITS.tagValueLength),
        }),
      };
    },
  ],
  ['GET', '/runs/get', S.RunResponse, async (ctx, caller, f) => ({ run: await runs.getRun(ctx, caller, runId(f)) })],
  [
    'POST',
    '/runs/update',
    S.RunInfoResponse,
    async (ctx, caller, f) => ({
      run_info: await runs.updateRun(ctx, caller, runId(f), {
        status: status(f),
        endTime: optInt(f, 'end_time'),
        runName: optString(f, 'run_name', MLFLOW_LIMITS.nameFieldLength),
      }),
    }),
  ],
  [
    'POST',
    '/runs/delete',
    S.Empty,
    async (ctx, caller, f) => {
      await runs.setRunDeleted(ctx, caller, runId(f), true);
      return {};
    },
  ],
  [
    'POST',
    '/runs/restore',
    S.Empty,
    async (ctx, caller, f) => {
      await runs.setRunDeleted(ctx, caller, runId(f), false);
      return {};
    },
  ],
  [
    'POST',
    '/runs/search',
    S.SearchRunsResponse,
    (ctx, caller, f) =>
      parsing(() =>
        runs.searchRuns(ctx, caller, {
          experimentIds: distinctIds(f, 'experiment_ids', MLFLOW_LIMITS.searchExperimentIds),
          filter: optString(f, 'filter', MLFLOW_LIMITS.filterLength),
          orderBy: optStrings(f, 'order_by'),
          view: viewType(f),
          maxResults: maxResults(f, MLFLOW_LIMITS.searchDefaultPage),
          pageToken: optString(f, 'page_token', MLFLOW_LIMITS.pageTokenLength),
        }),
      ),
  ],
  [
    'POST',
    '/runs/log-batch',
    S.Empty,
    async (ctx, caller, f) => {
      const rawMetrics = f.metrics ?? [];
      if (!Array.isArray(rawMetrics)) {
        throw invalidValue(rawMetrics, 'metrics', 'must be a list');
      }
      if (rawMetrics.length > MLFLOW_LIMITS.metricsPerBatch) {
        throw invalidParameter(
          `A batch logging request can contain at most ${MLFLOW_LIMITS.metricsPerBatch} metrics. Got ${rawMetrics.length} metrics. Please split up metrics across multiple requests and try again.`,
        );
      }
      await logBatch(ctx, caller, runId(f), {
        metrics: rawMetrics.map((m, i) => metricInput(m, `metrics[${i}]`)),
        params: keyValues(f, 'params', 'Param', MLFLOW_LIMITS.paramValueLength),
        tags: keyValues(f, 'tags', 'Tag', MLFLOW_LIMITS.tagValueLength),
      });
      return {};
    },
  ],
  [
    'POST',
    '/runs/log-metric',
    S.Empty,
    async (ctx, caller, f) => {
      await logBatch(ctx, caller, runId(f), { metrics: [metricInput(f)], params: [], tags: [] });
      return {};
    },
  ],
  [
    'POST',
    '/runs/log-parameter',
    S.Empty,
    async (ctx, caller, f) => {
      await logBatch(ctx, caller, runId(f), {
        metrics: [],
        params: [keyValue(f, 'Param', MLFLOW_LIMITS.paramValueLength)],
        tags: [],
      });
      return {};
    },
  ],
  [
    'POST',
    '/runs/set-tag',
    S.Empty,
    async (ctx, caller, f) => {
      await logBatch(ctx, caller, runId(f), {
        metrics: [],
        params: [],
        tags: [keyValue(f, 'Tag', MLFLOW_LIMITS.tagValueLength)],
      });
      return {};
    },
  ],
  [
    'POST',
    '/runs/delete-tag',
    S.Empty,
    async (ctx, caller, f) => {
      await runs.deleteTag(ctx, caller, runId(f), string(f, 'key', MLFLOW_LIMITS.nameFieldLength));
      return {};
    },
  ],
  [
    'POST',
    '/runs/log-inputs',
    S.Empty,
    async (ctx, caller, f) => {
      await datasets.logInputs(ctx, caller, runId(f), {
        datasets: datasets.datasetInputs(f),
        models: datasets.modelRefs(f),
      });
      return {};
    },
  ],
  [
    'POST',
    '/runs/outputs',
    S.Empty,
    // A logged model as the run's output (`log_model` with an active run), read back in runs/get.
    async (ctx, caller, f) => {
      await datasets.logOutputs(ctx, caller, runId(f), datasets.modelRefs(f));
      return {};
    },
  ],
  [
    'GET',
    '/artifacts/list',
    S.ListArtifactsResponse,
    async (ctx, caller, f) => listRunArtifacts(ctx, caller, runId(f), optString(f, 'path', 2000)),
  ],
  [
    'GET',
    '/metrics/get-history',
    S.HistoryResponse,
    async (ctx, caller, f) =>
      metricHistory(ctx, caller, {
        runId: runId(f),
        key: string(f, 'metric_key', MLFLOW_LIMITS.nameFieldLength),
        maxResults: maxResults(f, 25_000, 100_000),
        pageToken: optString(f, 'page_token', MLFLOW_LIMITS.pageTokenLength),
      }),
  ],
  [
    'GET',
    '/metrics/get-history-bulk-interval',
    S.BulkIntervalResponse,
    async (ctx, caller, f) =>
      bulkInterval(ctx, caller, {
        runIds: optStrings(f, 'run_ids'),
        key: string(f, 'metric_key', MLFLOW_LIMITS.nameFieldLength),
        startStep: optInt(f, 'start_step'),
        endStep: optInt(f, 'end_step'),
        maxResults: maxResults(f, 320, 2500),
      }),
  ],
];

/** POST endpoints that only read: open to read-only API keys (`mlflow.search_runs()` in a notebook). */
const SEARCHES = new Set(['/experiments/search', '/runs/search']);

function tracking(ctx: AppContext, documented: boolean): FastifyPluginAsyncTypebox {
  return async (app) => {
    const unrouted = mlflowUnrouted(app);
    installMlflowErrorHandler(app, unrouted);
    keepJsonText(app);
    // The caller's default workspace reads as MLflow's experiment "0" in every answer of the tracking API.
    app.addHook('preSerialization', async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
      if (reply.statusCode >= 400 || !request.caller || !mayNameExperiment(payload)) return payload;
      return withDefaultExperiment(payload, await defaultWorkspaceOf(ctx, request.caller));
    });
    for (const [method, path, response, handler] of ENDPOINTS) {
      app.route({
        method,
        url: path,
        // Bodies are read field by field (mlflow.request.ts): MLflow clients send fields newer than this server.
        schema: trackingSchema(method, path, response, documented),
        validatorCompiler: readByHand,
        config: { readsOnly: SEARCHES.has(path) },
        handler: async (request: FastifyRequest, reply: FastifyReply) => {
          const fields = method === 'GET' ? fieldsOf(request.query, 'query') : fieldsOf(request.body);
          const caller = requireCaller(request);
          const answer = await handler(ctx, caller, fields);
          // A large runs/search answer is written a chunk at a time (JsonText), not by the serializer (nor its hook).
          if (!(answer instanceof JsonText)) return answer;
          const text = withDefaultExperiment(answer, await defaultWorkspaceOf(ctx, caller)) as JsonText;
          return reply.type('application/json; charset=utf-8').send(text.text);
        },
      });
    }
    registerLoggedModelRoutes(app, ctx, documented);
    registerRegistryRoutes(app, ctx);
    app.setNotFoundHandler(unrouted);
  };
}

/** Whether an answer may hold an experiment id: not the `{}` that every logging call answers (no lookup for those). */
function mayNameExperiment(payload: unknown): boolean {
  return typeof payload === 'object' && payload !== null && Object.keys(payload).length > 0;
}

/** MLflow's answer to a route it does not have, so its client reports ENDPOINT_NOT_FOUND, not INTERNAL_ERROR. */
function endpointNotFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply.status(404).send({
    error_code: 'ENDPOINT_NOT_FOUND',
    message: `No MLflow endpoint ${request.method} ${request.url.split('?')[0] ?? ''} on this server`,
  });
}

/** A prefix with no routes of its own (MLflow 3's /api/3.0/mlflow: traces, GenAI) answering in MLflow's shape. */
const mlflowOnly: FastifyPluginAsyncTypebox = async (app) => {
  app.setNotFoundHandler(endpointNotFound);
};

const SWEEP_EVERY_MS = 3600 * 1000;

/**
 * The MLflow tracking REST API, under /api/2.0/mlflow and the /ajax-api/2.0/mlflow alias the
 * MLflow UI uses, so that `MLFLOW_TRACKING_URI=http://tora-host:8080` points MLflow at Tora.
 */
export function mlflowRoutes(ctx: AppContext): FastifyPluginAsyncTypebox {
  return async (app) => {
    let sweeper: NodeJS.Timeout | undefined;
    const sweep = () =>
      sweepStaleParts(ctx).catch((err: unknown) => app.log.warn({ err }, 'could not sweep stale artifact uploads'));
    app.addHook('onReady', async () => {
      await sweep();
      sweeper = setInterval(() => void sweep(), SWEEP_EVERY_MS).unref();
    });
    app.addHook('onClose', async () => clearInterval(sweeper));
    // Documented once, under /api; the /ajax-api alias answers the same.
    await app.register(tracking(ctx, true), { prefix: '/api/2.0/mlflow' });
    await app.register(mlflowArtifactRoutes(ctx, true), { prefix: '/api/2.0/mlflow-artifacts' });
    await app.register(mlflowOnly, { prefix: '/api/3.0/mlflow' });
    // Everything under /ajax-api is MLflow's: unknown routes there answer in its shape too.
    await app.register(
      async (ajax) => {
        ajax.setNotFoundHandler(endpointNotFound);
        await ajax.register(tracking(ctx, false), { prefix: '/2.0/mlflow' });
        await ajax.register(mlflowArtifactRoutes(ctx, false), { prefix: '/2.0/mlflow-artifacts' });
      },
      { prefix: '/ajax-api' },
    );
  };
}
