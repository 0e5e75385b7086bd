import type { Static } from '@sinclair/typebox';
import type { AppContext, Caller } from '../../context.js';
import type { MlflowDatasetInputsTable, MlflowRunModelsTable } from '../../db/schema.js';
import { MLFLOW_LIMITS as L } from '../../lib/limits.js';
import { experimentForCaller } from '../experiments/experiments.service.js';
import * as repo from './mlflow.datasets.repository.js';
import type { DatasetInputList as DatasetInputListSchema } from './mlflow.datasets.schemas.js';
import { invalidParameter } from './mlflow.errors.js';
import { missing, optString, type Fields, type KeyValue } from './mlflow.request.js';
import { activeRunForCaller } from './mlflow.runs.service.js';
import type { MlflowDataset, MlflowRun } from './mlflow.schemas.js';

/**
 * A run's inputs and outputs as MLflow logs them: the datasets it used (`runs/log-inputs`, what
 * `mlflow.log_input` and the autologgers send), with their input tags, and the logged models it
 * read or wrote. One writer per kind, read back in `runs/get` and `runs/search`.
 */

/** The `mlflow.data.context` input tag: "training", "eval", … (what `datasets.context` filters on). */
export const CONTEXT_TAG = 'mlflow.data.context';

export interface DatasetInput {
  name: string;
  digest: string;
  sourceType: string;
  source: string;
  schema: string | null;
  profile: string | null;
  tags: KeyValue[];
}

type DatasetInputList = Static<typeof DatasetInputListSchema>;

/** A run's datasets, logged-model inputs and outputs as runs/get and runs/search answer them. */
export type DatasetDto = Static<typeof MlflowDataset>;
export type RunInputsDto = Static<typeof MlflowRun>['inputs'];
export type RunOutputsDto = Static<typeof MlflowRun>['outputs'];

function list(f: Fields, name: string): unknown[] {
  const v = f[name];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalidParameter(`Invalid value for parameter '${name}': must be a list`);
  if (v.length > L.inputsPerRequest) {
    throw invalidParameter(`At most ${L.inputsPerRequest} ${name} may be logged in one request; got ${v.length}.`);
  }
  return v;
}

function object(raw: unknown, name: string): Fields {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalidParameter(`Invalid value for parameter '${name}': must be an object`);
  }
  return raw as Fields;
}

function text(f: Fields, path: string, name: string, max: number, required: boolean): string | null {
  const v = optString(f, name, Number.MAX_SAFE_INTEGER);
  if (v === undefined || (required && v === '')) {
    if (required) missing(`${path}.${name}`);
    return null;
  }
  if (v.length > max) {
    throw invalidParameter(`'${path}.${name}' exceeds the maximum length of ${max} characters (got ${v.length})`);
  }
  return v;
}

/** The `datasets` of a log-inputs request, checked against MLflow's limits. */
export function datasetInputs(f: Fields): DatasetInput[] {
  return list(f, 'datasets').map((raw, i) => {
    const path = `datasets[${i}]`;
    const input = object(raw, path);
    const d = object(input.dataset ?? missing(`${path}.dataset`), `${path}.dataset`);
    const at = `${path}.dataset`;
    const tags = list(input, 'tags').map((t, j) => {
      const tag = object(t, `${path}.tags[${j}]`);
      return {
        key: text(tag, `${path}.tags[${j}]`, 'key', L.inputTagKeyLength, true)!,
        value: text(tag, `${path}.tags[${j}]`, 'value', L.inputTagValueLength, false) ?? '',
      };
    });
    return {
      name: text(d, at, 'name', L.datasetNameLength, true)!,
      digest: text(d, at, 'digest', L.datasetDigestLength, true)!,
      sourceType: text(d, at, 'source_type', L.datasetSourceTypeLength, true)!,
      source: text(d, at, 'source', L.datasetSourceLength, true)!,
      schema: text(d, at, 'schema', L.datasetSchemaLength, false),
      profile: text(d, at, 'profile', L.datasetProfileLength, false),
      tags,
    };
  });
}

/** Model ids of a log-inputs `models` list, or (with steps) of a runs/outputs request. */
export function modelRefs(f: Fields): { modelId: string; step: number }[] {
  return list(f, 'models').map((raw, i) => {
    const m = object(raw, `models[${i}]`);
    const modelId = text(m, `models[${i}]`, 'model_id', L.idLength, true)!;
    const rawStep = m.step ?? 0;
    const step = typeof rawStep === 'string' && /^-?\d+$/.test(rawStep) ? Number(rawStep) : rawStep;
    if (typeof step !== 'number' || !Number.isSafeInteger(step)) {
      throw invalidParameter(`Invalid value ${JSON.stringify(rawStep)} for parameter 'models[${i}].step': must be an integer`);
    }
    return { modelId, step };
  });
}

/** `runs/log-inputs`: stores the run's datasets (and the models it read) in one transaction. */
export async function logInputs(
  ctx: AppContext,
  caller: Caller,
  runId: string,
  input: { datasets: DatasetInput[]; models: { modelId: string }[] },
): Promise<void> {
  await activeRunForCaller(ctx, caller, runId);
  const now = ctx.clock();
  const datasets: MlflowDatasetInputsTable[] = input.datasets.map((d, position) => ({
    experiment_id: runId,
    name: d.name,
    digest: d.digest,
    source_type: d.sourceType,
    source: d.source,
    schema: d.schema,
    profile: d.profile,
    context: d.tags.find((t) => t.key === CONTEXT_TAG)?.value ?? null,
    tags: JSON.stringify(d.tags),
    created_at: now,
    position,
  }));
  await ctx.db.transaction().execute(async (trx) => {
    await repo.addDatasetInputs(trx, datasets);
    await repo.addRunModels(trx, links(runId, 'input', input.models, now));
  });
}

/** `runs/outputs`: the logged models a run wrote, at a step. */
export async function logOutputs(
  ctx: AppContext,
  caller: Caller,
  runId: string,
  models: { modelId: string; step: number }[],
): Promise<void> {
  await activeRunForCaller(ctx, caller, runId);
  await repo.addRunModels(ctx.db, links(runId, 'output', models, ctx.clock()));
}

function links(
  runId: string,
  direction: MlflowRunModelsTable['direction'],
  models: readonly { modelId: string; step?: number }[],
  now: number,
): MlflowRunModelsTable[] {
  return models.map((m) => ({ experiment_id: runId, model_id: m.modelId, direction, step: m.step ?? 0, created_at: now }));
}

function toDatasetDto(row: MlflowDatasetInputsTable): DatasetDto {
  const d: DatasetDto = { name: row.name, digest: row.digest, source_type: row.source_type, source: row.source };
  if (row.schema !== null) d.schema = row.schema;
  if (row.profile !== null) d.profile = row.profile;
  return d;
}

/** The inputs and outputs of each run, in two queries (no access check: for callers that made it). */
export async function inputsAndOutputsOf(
  ctx: AppContext,
  runIds: readonly string[],
): Promise<Map<string, { inputs: RunInputsDto; outputs: RunOutputsDto }>> {
  const [datasets, models] = await Promise.all([repo.datasetInputsOf(ctx.db, runIds), repo.runModelsOf(ctx.db, runIds)]);
  const out = new Map<string, { inputs: RunInputsDto; outputs: RunOutputsDto }>();
  for (const id of runIds) out.set(id, { inputs: { dataset_inputs: [], model_inputs: [] }, outputs: { model_outputs: [] } });
  for (const row of datasets) {
    out
      .get(row.experiment_id)
      ?.inputs.dataset_inputs.push({ tags: JSON.parse(row.tags) as KeyValue[], dataset: toDatasetDto(row) });
  }
  for (const row of models) {
    const entry = out.get(row.experiment_id);
    if (row.direction === 'input') entry?.inputs.model_inputs.push({ model_id: row.model_id });
    else entry?.outputs.model_outputs.push({ model_id: row.model_id, step: Number(row.step) });
  }
  return out;
}

/** The datasets of an experiment in Tora's shape (its page's Datasets panel); viewers and up. */
export async function listDatasets(ctx: AppContext, caller: Caller, experimentId: string): Promise<DatasetInputList> {
  const { row } = await experimentForCaller(ctx, caller, experimentId, 'viewer');
  const rows = await repo.datasetInputsOf(ctx.db, [row.id]);
  return {
    datasets: rows.map((d) => ({
      name: d.name,
      digest: d.digest,
      sourceType: d.source_type,
      source: d.source,
      context: d.context,
      tags: JSON.parse(d.tags) as KeyValue[],
      schema: d.schema,
      profile: d.profile,
      loggedAt: new Date(Number(d.created_at)).toISOString(),
    })),
  };
}
