import { Type } from '@sinclair/typebox';
import { MLFLOW_LIMITS as L } from '../../lib/limits.js';
import { IsoDate, Uuid } from '../../lib/schemas.js';

/** Tora's own view of a workspace's registered models (the Models page). */
const KeyValue = Type.Object({ key: Type.String(), value: Type.String() });

export const ModelVersionDto = Type.Object({
  version: Type.Integer(),
  stage: Type.String({ description: 'None, Staging, Production or Archived' }),
  source: Type.String({ description: 'Where the files are, as the client registered it' }),
  runId: Type.Union([Type.String(), Type.Null()]),
  runName: Type.Union([Type.String(), Type.Null()], { description: 'null when the run is gone or not readable' }),
  description: Type.String(),
  tags: Type.Array(KeyValue),
  aliases: Type.Array(Type.String()),
  createdAt: IsoDate,
});

export const RegisteredModelDto = Type.Object({
  name: Type.String(),
  description: Type.String(),
  tags: Type.Array(KeyValue),
  aliases: Type.Array(Type.Object({ alias: Type.String(), version: Type.Integer() })),
  versions: Type.Array(ModelVersionDto, { description: 'newest first' }),
  createdAt: IsoDate,
  updatedAt: IsoDate,
});

export const RegisteredModelList = Type.Object({ models: Type.Array(RegisteredModelDto) });

export const AliasParams = Type.Object({
  id: Uuid,
  name: Type.String({ minLength: 1, maxLength: L.registeredModelNameLength }),
  alias: Type.String({ minLength: 1, maxLength: L.aliasLength, pattern: '^[\\w-]+$' }),
});

export const AliasBody = Type.Object({ version: Type.Integer({ minimum: 1 }) }, { additionalProperties: false });
