import { sql, type Kysely } from 'kysely';
import type { DB, MlflowLoggedModelMetricsTable, MlflowLoggedModelsTable } from '../../db/schema.js';

/** SQL of MLflow 3's logged models; every read is by id or scoped by workspace. */

export async function insertLoggedModel(db: Kysely<DB>, row: MlflowLoggedModelsTable): Promise<void> {
  await db.insertInto('mlflow_logged_models').values(row).execute();
}

export function findLoggedModel(db: Kysely<DB>, id: string): Promise<MlflowLoggedModelsTable | undefined> {
  return db.selectFrom('mlflow_logged_models').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function updateLoggedModel(
  db: Kysely<DB>,
  id: string,
  patch: Partial<Pick<MlflowLoggedModelsTable, 'status' | 'status_message' | 'tags' | 'params' | 'updated_at'>>,
): Promise<void> {
  await db.updateTable('mlflow_logged_models').set(patch).where('id', '=', id).execute();
}

export async function deleteLoggedModel(db: Kysely<DB>, id: string): Promise<void> {
  await db.deleteFrom('mlflow_logged_models').where('id', '=', id).execute();
}

export type ModelFilterColumn = 'name' | 'id' | 'source_run_id' | 'model_type' | 'status';
/** `=` is IN of one value, `!=` NOT IN of one. */
export interface ModelFilter {
  column: ModelFilterColumn;
  op: 'in' | 'not in';
  values: readonly string[];
}

/** A dataset of logged-model search: models with a metric measured on it (any digest when none is given). */
export interface DatasetFilter {
  name: string;
  digest?: string;
}

/**
 * Newest first, one page (`limit` rows from `offset`), every filter clause applied; with
 * datasets, only models that have a metric on one of them.
 */
export function searchLoggedModels(
  db: Kysely<DB>,
  q: {
    workspaceIds: readonly string[];
    where: readonly ModelFilter[];
    datasets: readonly DatasetFilter[];
    offset: number;
    /** null: every match (`offset` then unused). */
    limit: number | null;
  },
): Promise<MlflowLoggedModelsTable[]> {
  if (q.workspaceIds.length === 0) return Promise.resolve([]);
  let query = db.selectFrom('mlflow_logged_models as lm').selectAll('lm').where('lm.workspace_id', 'in', q.workspaceIds);
  for (const c of q.where) {
    // The source run answered is the one given (any string); a model with none is "not in" any list, as in MLflow.
    const column =
      c.column === 'source_run_id'
        ? sql<string | null>`coalesce(lm.given_source_run_id, lm.source_run_id)`
        : sql.ref(`lm.${c.column}`);
    query =
      c.op === 'in'
        ? query.where(column, 'in', c.values)
        : query.where((eb) => eb.or([eb(column, 'is', null), eb(column, 'not in', c.values)]));
  }
  if (q.datasets.length > 0) {
    query = query.where((eb) =>
      eb.exists(
        eb
          .selectFrom('mlflow_logged_model_metrics as mm')
          .select('mm.model_id')
          .whereRef('mm.model_id', '=', 'lm.id')
          .where((d) =>
            d.or(
              q.datasets.map((ds) =>
                ds.digest === undefined
                  ? d('mm.dataset_name', '=', ds.name)
                  : d.and([d('mm.dataset_name', '=', ds.name), d('mm.dataset_digest', '=', ds.digest)]),
              ),
            ),
          ),
      ),
    );
  }
  const ordered = query.orderBy('lm.created_at', 'desc').orderBy('lm.id');
  // SQLite takes no OFFSET without a LIMIT: "every match" is read whole, from the start.
  return (q.limit === null ? ordered : ordered.offset(q.offset).limit(q.limit)).execute();
}

/** The logged models among `ids` that belong to a workspace (the ones a run there may log metrics to). */
export async function modelsOfWorkspace(db: Kysely<DB>, workspaceId: string, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .selectFrom('mlflow_logged_models')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('id', 'in', ids)
    .execute();
  return rows.map((r) => r.id);
}

/** Adds model metrics; a point already there (same model, run, key, step, time, dataset) keeps its value, as in MLflow. */
export async function addModelMetrics(db: Kysely<DB>, rows: readonly MlflowLoggedModelMetricsTable[]): Promise<void> {
  for (let i = 0; i < rows.length; i += 100) {
    await db
      .insertInto('mlflow_logged_model_metrics')
      .values(rows.slice(i, i + 100))
      .onConflict((oc) => oc.doNothing())
      .execute();
  }
}

/** The metrics of each model, in logging order (time, step). */
export function modelMetricsOf(db: Kysely<DB>, modelIds: readonly string[]): Promise<MlflowLoggedModelMetricsTable[]> {
  if (modelIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('mlflow_logged_model_metrics')
    .selectAll()
    .where('model_id', 'in', modelIds)
    .orderBy('timestamp')
    .orderBy('step')
    .orderBy('key')
    .execute();
}

/** The logged models a run made (`source_run_id`), in its workspace, oldest first. */
export function loggedModelsOfRun(db: Kysely<DB>, workspaceId: string, runId: string): Promise<MlflowLoggedModelsTable[]> {
  return db
    .selectFrom('mlflow_logged_models')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('source_run_id', '=', runId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}
