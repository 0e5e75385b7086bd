import { Type } from '@sinclair/typebox';
import { MLFLOW_LIMITS } from '../../lib/limits.js';
import { Uuid } from '../../lib/schemas.js';

export const KvTagParams = Type.Object({
  id: Uuid,
  key: Type.String({ minLength: 1, maxLength: MLFLOW_LIMITS.keyLength, description: 'The tag key (URL-encoded)' }),
});

export const KvTagBody = Type.Object(
  { value: Type.String({ maxLength: MLFLOW_LIMITS.tagValueLength }) },
  { additionalProperties: false },
);

export const KvTagList = Type.Object({
  tags: Type.Array(
    Type.Object({
      key: Type.String(),
      value: Type.String(),
      system: Type.Boolean({ description: "An `mlflow.*` tag: MLflow's own, read-only here" }),
    }),
  ),
});
