import { Type } from '@sinclair/typebox';

/**
 * Response shapes of the MLflow routes (MLflow's protobuf messages as JSON). Declared so that the
 * serializer drops anything undeclared; with the request shapes of mlflow.openapi.ts they are
 * in Tora's OpenAPI document (tag MLflow).
 */
const KeyValue = Type.Object({ key: Type.String(), value: Type.String() });
const Int = Type.Integer();

export const MlflowExperiment = Type.Object({
  experiment_id: Type.String(),
  name: Type.String(),
  artifact_location: Type.String(),
  lifecycle_stage: Type.String(),
  creation_time: Int,
  last_update_time: Int,
  tags: Type.Array(KeyValue),
});

const MlflowMetric = Type.Object({
  key: Type.String(),
  value: Type.Union([Type.Number(), Type.String({ description: '"NaN", "Infinity" or "-Infinity"' })]),
  timestamp: Int,
  step: Int,
});

export const MlflowRunInfo = Type.Object({
  run_id: Type.String(),
  run_uuid: Type.String(),
  experiment_id: Type.String(),
  run_name: Type.String(),
  user_id: Type.String(),
  status: Type.String(),
  start_time: Int,
  end_time: Type.Optional(Int),
  artifact_uri: Type.String(),
  lifecycle_stage: Type.String(),
});

export const MlflowDataset = Type.Object({
  name: Type.String(),
  digest: Type.String(),
  source_type: Type.String(),
  source: Type.String(),
  schema: Type.Optional(Type.String()),
  profile: Type.Optional(Type.String()),
});

export const MlflowRun = Type.Object({
  info: MlflowRunInfo,
  data: Type.Object({ metrics: Type.Array(MlflowMetric), params: Type.Array(KeyValue), tags: Type.Array(KeyValue) }),
  inputs: Type.Object({
    dataset_inputs: Type.Array(Type.Object({ tags: Type.Array(KeyValue), dataset: MlflowDataset })),
    model_inputs: Type.Array(Type.Object({ model_id: Type.String() })),
  }),
  outputs: Type.Object({ model_outputs: Type.Array(Type.Object({ model_id: Type.String(), step: Int })) }),
});

const Paged = { next_page_token: Type.Optional(Type.String()) };

export const ExperimentResponse = Type.Object({ experiment: MlflowExperiment });
export const CreateExperimentResponse = Type.Object({ experiment_id: Type.String() });
export const SearchExperimentsResponse = Type.Object({ experiments: Type.Array(MlflowExperiment), ...Paged });
export const RunResponse = Type.Object({ run: MlflowRun });
export const RunInfoResponse = Type.Object({ run_info: MlflowRunInfo });
export const SearchRunsResponse = Type.Object({ runs: Type.Array(MlflowRun), ...Paged });
export const HistoryResponse = Type.Object({ metrics: Type.Array(MlflowMetric), ...Paged });
export const BulkIntervalResponse = Type.Object({
  metrics: Type.Array(Type.Object({ ...MlflowMetric.properties, run_id: Type.String() })),
});
export const Empty = Type.Object({});

export const ListArtifactsResponse = Type.Object({
  root_uri: Type.String(),
  files: Type.Optional(
    Type.Array(Type.Object({ path: Type.String(), is_dir: Type.Boolean(), file_size: Type.Optional(Type.Integer()) })),
  ),
});

/** A point logged with a model's id, among the model's metrics. */
const ModelMetric = Type.Object({
  ...MlflowMetric.properties,
  run_id: Type.String(),
  model_id: Type.String(),
  dataset_name: Type.Optional(Type.String()),
  dataset_digest: Type.Optional(Type.String()),
});

export const LoggedModel = Type.Object({
  info: Type.Object({
    model_id: Type.String(),
    experiment_id: Type.String(),
    name: Type.String(),
    creation_timestamp_ms: Int,
    last_updated_timestamp_ms: Int,
    artifact_uri: Type.String(),
    status: Type.String(),
    status_message: Type.String(),
    model_type: Type.String(),
    source_run_id: Type.Optional(Type.String()),
    tags: Type.Array(KeyValue),
  }),
  data: Type.Object({ params: Type.Array(KeyValue), metrics: Type.Array(ModelMetric) }),
});
export const LoggedModelResponse = Type.Object({ model: LoggedModel });
export const SearchLoggedModelsResponse = Type.Object({ models: Type.Array(LoggedModel), ...Paged });
