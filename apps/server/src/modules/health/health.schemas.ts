import { Type } from '@sinclair/typebox';

export const Health = Type.Object({
  status: Type.Literal('ok'),
  version: Type.String(),
  database: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres')]),
  dialect: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres')], { description: 'Same as database' }),
  fileStore: Type.Union([Type.Literal('directory'), Type.Literal('s3')], {
    description: 'Where files live: the directory under TORA_DATA_DIR, or an S3-compatible bucket (TORA_ARTIFACT_STORE)',
  }),
  features: Type.Array(Type.String(), {
    description: 'Optional capabilities clients may use, e.g. "metrics.f64-columns" (binary batch columns)',
  }),
});
