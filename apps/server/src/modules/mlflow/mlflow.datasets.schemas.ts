import { Type } from '@sinclair/typebox';
import { IsoDate } from '../../lib/schemas.js';

/** Tora's own view of a run's MLflow dataset inputs (the experiment page's Datasets panel). */
export const DatasetInputDto = Type.Object({
  name: Type.String(),
  digest: Type.String(),
  sourceType: Type.String({ description: 'MLflow source type: local, http, s3, hugging_face, code, …' }),
  source: Type.String({ description: 'The source as MLflow sent it (usually JSON naming a path or URI)' }),
  context: Type.Union([Type.String(), Type.Null()], { description: 'The mlflow.data.context tag: training, eval, …' }),
  tags: Type.Array(Type.Object({ key: Type.String(), value: Type.String() })),
  schema: Type.Union([Type.String(), Type.Null()]),
  profile: Type.Union([Type.String(), Type.Null()]),
  loggedAt: IsoDate,
});

export const DatasetInputList = Type.Object({ datasets: Type.Array(DatasetInputDto) });
