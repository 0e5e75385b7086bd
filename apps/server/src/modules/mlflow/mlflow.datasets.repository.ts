import type { Kysely } from 'kysely';
import type { DB, MlflowDatasetInputsTable, MlflowRunModelsTable } from '../../db/schema.js';

/** SQL of a run's MLflow inputs and outputs: `mlflow_dataset_inputs` and `mlflow_run_models`. */

/** Adds dataset inputs; one already logged to the run under the same (name, digest) is kept as it was, as MLflow keeps it. */
export async function addDatasetInputs(db: Kysely<DB>, rows: readonly MlflowDatasetInputsTable[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 100) {
    await db
      .insertInto('mlflow_dataset_inputs')
      .values(rows.slice(i, i + 100))
      .onConflict((oc) => oc.columns(['experiment_id', 'name', 'digest']).doNothing())
      .execute();
  }
}

export function datasetInputsOf(db: Kysely<DB>, experimentIds: readonly string[]): Promise<MlflowDatasetInputsTable[]> {
  if (experimentIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('mlflow_dataset_inputs')
    .selectAll()
    .where('experiment_id', 'in', experimentIds)
    .orderBy('created_at')
    .orderBy('position')
    .orderBy('name')
    .orderBy('digest')
    .execute();
}

/** Links runs to logged models; a link already there keeps its step. */
export async function addRunModels(db: Kysely<DB>, rows: readonly MlflowRunModelsTable[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 100) {
    await db
      .insertInto('mlflow_run_models')
      .values(rows.slice(i, i + 100))
      .onConflict((oc) => oc.columns(['experiment_id', 'direction', 'model_id']).doNothing())
      .execute();
  }
}

export function runModelsOf(db: Kysely<DB>, experimentIds: readonly string[]): Promise<MlflowRunModelsTable[]> {
  if (experimentIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('mlflow_run_models')
    .selectAll()
    .where('experiment_id', 'in', experimentIds)
    .orderBy('created_at')
    .orderBy('model_id')
    .execute();
}
