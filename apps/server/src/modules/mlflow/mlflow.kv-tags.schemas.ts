import { Type } from '@sinclair/typebox';
import { MLFLOW_LIMITS } from '../../lib/limits.js';
import { Uuid } from '../../lib/schemas.js';

export const KvTagParams = Type.Object({
  id: Uuid,
  key: Type.String({
    minLength: 1,
    maxLength: MLFLOW_LIMITS.keyLength,
    // Not blank, no control characters (the service refuses both with 400, as MLflow's set-tag does).
    pattern: '^[^\\u0000-\\u001f\\u007f]*[^\\s\\u0000-\\u001f\\u007f][^\\u0000-\\u001f\\u007f]*$',
    description: 'The tag key (URL-encoded): not blank, no control characters; `mlflow.*` keys are read-only',
  }),
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
