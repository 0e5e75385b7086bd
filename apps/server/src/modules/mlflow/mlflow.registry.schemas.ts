import { Type } from '@sinclair/typebox';

/** Response shapes of MLflow's model registry routes (model_registry.proto as JSON); hidden from Tora's document. */
const KeyValue = Type.Object({ key: Type.String(), value: Type.String() });
const Int = Type.Integer();

export const ModelVersion = Type.Object({
  name: Type.String(),
  version: Type.String(),
  creation_timestamp: Int,
  last_updated_timestamp: Int,
  current_stage: Type.String(),
  description: Type.String(),
  source: Type.String(),
  run_id: Type.Optional(Type.String()),
  status: Type.String(),
  status_message: Type.String(),
  tags: Type.Array(KeyValue),
  run_link: Type.String(),
  aliases: Type.Array(Type.String()),
  model_id: Type.Optional(Type.String()),
});

export const RegisteredModel = Type.Object({
  name: Type.String(),
  creation_timestamp: Int,
  last_updated_timestamp: Int,
  description: Type.String(),
  latest_versions: Type.Array(ModelVersion),
  tags: Type.Array(KeyValue),
  aliases: Type.Array(Type.Object({ alias: Type.String(), version: Type.String() })),
});

const Paged = { next_page_token: Type.Optional(Type.String()) };
export const RegisteredModelResponse = Type.Object({ registered_model: RegisteredModel });
export const SearchRegisteredModelsResponse = Type.Object({ registered_models: Type.Array(RegisteredModel), ...Paged });
export const ModelVersionResponse = Type.Object({ model_version: ModelVersion });
export const ModelVersionsResponse = Type.Object({ model_versions: Type.Array(ModelVersion) });
export const SearchModelVersionsResponse = Type.Object({ model_versions: Type.Array(ModelVersion), ...Paged });
export const DownloadUriResponse = Type.Object({ artifact_uri: Type.String() });
