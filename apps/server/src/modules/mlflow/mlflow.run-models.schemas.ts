import { Type, type Static } from '@sinclair/typebox';
import { RUN_MODEL_LIMITS } from '../../lib/limits.js';

/** Tora's view of the models a run logged (the Models section of its page). */

const ModelFile = Type.Object({
  path: Type.String({ description: 'Relative to the model’s directory' }),
  size: Type.Integer({ minimum: 0 }),
});

const RegisteredVersion = Type.Object({
  name: Type.String({ description: 'The registered model (see the Models page)' }),
  version: Type.Integer(),
  stage: Type.String(),
  aliases: Type.Array(Type.String()),
  source: Type.String(),
  /** The model of this run it was registered from, when the source names one. */
  model: Type.Union([Type.String(), Type.Null()], {
    description: 'The `key` of the model below it was registered from; null when its source names none of them',
  }),
});

const RunModel = Type.Object({
  key: Type.String({ description: 'The logged model’s id, or `dir:` + the directory’s path' }),
  kind: Type.Union([Type.Literal('logged'), Type.Literal('directory')], {
    description: '`logged`: an MLflow 3 logged model; `directory`: a folder of the run’s files holding an MLmodel',
  }),
  name: Type.String(),
  /** Among the run's files (download them from /files/{path}/…); null for a logged model. */
  path: Type.Union([Type.String(), Type.Null()]),
  status: Type.String({ description: 'READY, PENDING or UPLOAD_FAILED' }),
  flavors: Type.Array(Type.String(), { description: 'From its MLmodel (`flavors:`), e.g. python_function, sklearn' }),
  size: Type.Integer({ minimum: 0, description: 'Bytes of all its files' }),
  fileCount: Type.Integer({ minimum: 0 }),
  files: Type.Array(ModelFile, { description: `At most ${RUN_MODEL_LIMITS.filesPerModel}, in path order` }),
  uri: Type.String({ description: 'What loads it: `mlflow.pyfunc.load_model(uri)`' }),
});
export type RunModelDto = Static<typeof RunModel>;
export type RegisteredVersionDto = Static<typeof RegisteredVersion>;

export const RunModelList = Type.Object({
  models: Type.Array(RunModel),
  registered: Type.Array(RegisteredVersion, { description: 'Registered versions made from this run' }),
});
