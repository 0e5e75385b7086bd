import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifySchema, FastifySchemaCompiler } from 'fastify';
import { MLFLOW_LIMITS } from '../../lib/limits.js';

/**
 * The MLflow routes in Tora's OpenAPI document (tag `MLflow`), so the contract fuzzing reaches
 * them. The request shapes here document; they do not validate: MLflow clients send int64 fields
 * as numbers or numeric strings and fields newer than this server, so requests are read field by
 * field (mlflow.request.ts), as MLflow's own server reads them. Only the `/api/2.0/…` paths are
 * documented; the `/ajax-api/2.0/…` alias answers the same.
 */

const tags = ['MLflow'];

/** MLflow's error shape, which every MLflow route answers with (registered with the app: buildApp). */
export const MlflowErrorResponse = Type.Object(
  { error_code: Type.String({ description: 'e.g. INVALID_PARAMETER_VALUE, RESOURCE_DOES_NOT_EXIST' }), message: Type.String() },
  { $id: 'MlflowError' },
);

const Int64 = Type.Union([Type.Integer(), Type.String({ pattern: '^(-?[0-9]+)?$' })], {
  description: 'int64, as a number or a numeric string (blank: not given)',
});
/** An optional field: MLflow reads JSON as protobuf does, so `null` is the field not given. */
export const Opt = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));
const Id = Type.String({ maxLength: MLFLOW_LIMITS.idLength });
const Key = Type.String({ minLength: 1, maxLength: MLFLOW_LIMITS.keyLength });
const KeyValues = (valueLength: number) =>
  Type.Array(Type.Object({ key: Key, value: Opt(Type.String({ maxLength: valueLength })) }), {
    maxItems: MLFLOW_LIMITS.paramsTagsPerBatch,
  });
const ViewType = Type.Union([Type.Literal('ACTIVE_ONLY'), Type.Literal('DELETED_ONLY'), Type.Literal('ALL')]);
const Metric = Type.Object({
  key: Key,
  value: Type.Union([Type.Number(), Type.Literal('NaN'), Type.Literal('Infinity'), Type.Literal('-Infinity')]),
  timestamp: Int64,
  step: Opt(Int64),
  model_id: Opt(Type.String()),
  dataset_name: Opt(Type.String({ maxLength: MLFLOW_LIMITS.datasetNameLength })),
  dataset_digest: Opt(Type.String({ maxLength: MLFLOW_LIMITS.datasetDigestLength })),
});
const RunRef = { run_id: Opt(Id), run_uuid: Opt(Id) };
const ExperimentRef = Type.Object({ experiment_id: Id });
const SearchExperiments = Type.Object({
  max_results: Opt(Int64),
  page_token: Opt(Type.String({ maxLength: MLFLOW_LIMITS.pageTokenLength })),
  filter: Opt(Type.String({ maxLength: MLFLOW_LIMITS.filterLength })),
  order_by: Opt(Type.Array(Type.String())),
  view_type: Opt(ViewType),
});

/** Request shapes by `METHOD path` (path under /api/2.0/mlflow); GET shapes are query strings. */
const REQUESTS: Record<string, { summary: string; request: TSchema }> = {
  'POST /experiments/create': {
    summary: 'Create an experiment (a Tora workspace)',
    request: Type.Object({
      name: Type.String({ minLength: 1, maxLength: MLFLOW_LIMITS.experimentNameLength }),
      artifact_location: Opt(Type.String()),
      tags: Opt(KeyValues(MLFLOW_LIMITS.experimentTagValueLength)),
    }),
  },
  'GET /experiments/get': { summary: 'Get an experiment', request: ExperimentRef },
  'GET /experiments/get-by-name': {
    summary: 'Get an experiment by name',
    request: Type.Object({ experiment_name: Type.String({ minLength: 1, maxLength: MLFLOW_LIMITS.nameFieldLength }) }),
  },
  'GET /experiments/search': { summary: 'Search experiments', request: SearchExperiments },
  'POST /experiments/search': { summary: 'Search experiments', request: SearchExperiments },
  'POST /experiments/update': {
    summary: 'Rename an experiment',
    request: Type.Object({ experiment_id: Id, new_name: Opt(Type.String({ maxLength: MLFLOW_LIMITS.nameFieldLength })) }),
  },
  'POST /experiments/delete': { summary: 'Delete an experiment (soft)', request: ExperimentRef },
  'POST /experiments/restore': { summary: 'Restore a deleted experiment', request: ExperimentRef },
  'POST /experiments/set-experiment-tag': {
    summary: 'Set a tag on an experiment',
    request: Type.Object({
      experiment_id: Id,
      key: Key,
      value: Opt(Type.String({ maxLength: MLFLOW_LIMITS.experimentTagValueLength })),
    }),
  },
  'POST /runs/create': {
    summary: 'Create a run (a Tora experiment)',
    request: Type.Object({
      experiment_id: Opt(Id),
      run_name: Opt(Type.String({ maxLength: MLFLOW_LIMITS.nameFieldLength })),
      start_time: Opt(Int64),
      user_id: Opt(Type.String()),
      tags: Opt(KeyValues(MLFLOW_LIMITS.tagValueLength)),
    }),
  },
  'GET /runs/get': { summary: 'Get a run', request: Type.Object(RunRef) },
  'POST /runs/update': {
    summary: "Update a run's status, end time or name",
    request: Type.Object({
      ...RunRef,
      status: Opt(Type.Union(['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'].map((s) => Type.Literal(s)))),
      end_time: Opt(Int64),
      run_name: Opt(Type.String({ maxLength: MLFLOW_LIMITS.nameFieldLength })),
    }),
  },
  'POST /runs/delete': { summary: 'Delete a run (soft)', request: Type.Object(RunRef) },
  'POST /runs/restore': { summary: 'Restore a deleted run', request: Type.Object(RunRef) },
  'POST /runs/search': {
    summary: "Search runs with MLflow's filter grammar",
    request: Type.Object({
      experiment_ids: Opt(Type.Array(Id)),
      filter: Opt(Type.String({ maxLength: MLFLOW_LIMITS.filterLength })),
      run_view_type: Opt(ViewType),
      max_results: Opt(Int64),
      order_by: Opt(Type.Array(Type.String())),
      page_token: Opt(Type.String({ maxLength: MLFLOW_LIMITS.pageTokenLength })),
    }),
  },
  'POST /runs/log-batch': {
    summary: 'Log metrics, params and tags to a run, all or nothing',
    request: Type.Object({
      ...RunRef,
      metrics: Opt(Type.Array(Metric, { maxItems: MLFLOW_LIMITS.metricsPerBatch })),
      params: Opt(KeyValues(MLFLOW_LIMITS.paramValueLength)),
      tags: Opt(KeyValues(MLFLOW_LIMITS.tagValueLength)),
    }),
  },
  'POST /runs/log-metric': {
    summary: 'Log one metric point',
    request: Type.Object({ ...RunRef, ...Metric.properties }),
  },
  'POST /runs/log-parameter': {
    summary: 'Log one param (immutable once logged)',
    request: Type.Object({
      ...RunRef,
      key: Key,
      value: Opt(Type.String({ maxLength: MLFLOW_LIMITS.paramValueLength })),
    }),
  },
  'POST /runs/set-tag': {
    summary: 'Set a tag on a run',
    request: Type.Object({ ...RunRef, key: Key, value: Opt(Type.String({ maxLength: MLFLOW_LIMITS.tagValueLength })) }),
  },
  'POST /runs/delete-tag': { summary: 'Delete a tag of a run', request: Type.Object({ ...RunRef, key: Key }) },
  'POST /runs/log-inputs': {
    summary: 'Datasets (with their input tags) and logged models a run used',
    request: Type.Object({ ...RunRef, datasets: Opt(Type.Array(Type.Unknown())), models: Opt(Type.Array(Type.Unknown())) }),
  },
  'POST /runs/outputs': {
    summary: 'Logged models as outputs of a run, at a step (read back in runs/get)',
    request: Type.Object({ ...RunRef, models: Opt(Type.Array(Type.Unknown())) }),
  },
  'GET /artifacts/list': {
    summary: "One directory of a run's files (MLflow's path check: no '..', backslash, '#' or absolute path)",
    request: Type.Object({ ...RunRef, path: Opt(Type.String({ maxLength: 2000 })), page_token: Opt(Type.String()) }),
  },
  'GET /metrics/get-history': {
    summary: "One page of a metric's history",
    request: Type.Object({
      ...RunRef,
      metric_key: Type.String({ minLength: 1, maxLength: MLFLOW_LIMITS.nameFieldLength }),
      max_results: Opt(Int64),
      page_token: Opt(Type.String({ maxLength: MLFLOW_LIMITS.pageTokenLength })),
    }),
  },
  'GET /metrics/get-history-bulk-interval': {
    summary: 'Sampled histories of one metric over several runs',
    request: Type.Object({
      run_ids: Type.Array(Id, { minItems: 1, maxItems: MLFLOW_LIMITS.intervalRuns }),
      metric_key: Type.String({ minLength: 1, maxLength: MLFLOW_LIMITS.nameFieldLength }),
      start_step: Opt(Int64),
      end_step: Opt(Int64),
      max_results: Opt(Int64),
    }),
  },
};

/** Statuses the MLflow routes answer besides 200, all in MLflow's error shape. */
const ERRORS = [400, 401, 403, 404, 413, 415] as const;

const ERROR_REF = Type.Ref('MlflowError');

export function errorResponses(): Record<number, TSchema> {
  return Object.fromEntries(ERRORS.map((s) => [s, ERROR_REF]));
}

/** The requests are read by hand (see above): the schema documents, this keeps it from validating. */
export const readByHand: FastifySchemaCompiler<unknown> = () => () => true;

/** The OpenAPI schema of one tracking endpoint (hidden where `documented` is false: the alias prefix). */
export function trackingSchema(method: 'GET' | 'POST', path: string, response: TSchema, documented: boolean): FastifySchema {
  const doc = REQUESTS[`${method} ${path}`];
  if (!documented || doc === undefined) return { hide: true, response: { 200: response } };
  return {
    tags,
    summary: doc.summary,
    ...(method === 'GET' ? { querystring: doc.request } : { body: doc.request }),
    response: { 200: response, ...errorResponses() },
  };
}

/** OpenAPI pieces for the other MLflow routes (logged models, artifacts). */
export function mlflowSchema(documented: boolean, schema: FastifySchema & { summary?: string }): FastifySchema {
  if (!documented) return { hide: true, response: schema.response };
  const response = (schema.response ?? {}) as Record<number, unknown>;
  return { tags, ...schema, response: { ...response, ...errorResponses() } };
}

/**
 * MLflow reads a POST without a body as an empty message (every field not given), as its own
 * server does: the document says so (Fastify's generator marks every body required).
 */
export function optionalMlflowBodies<T>(doc: T): T {
  const paths = (doc as { paths?: Record<string, Record<string, { tags?: string[]; requestBody?: { required?: boolean } }>> })
    .paths;
  for (const [path, operations] of Object.entries(paths ?? {})) {
    if (!path.startsWith('/api/2.0/mlflow/')) continue;
    for (const operation of Object.values(operations)) {
      if (operation.requestBody !== undefined) operation.requestBody.required = false;
    }
  }
  return doc;
}
