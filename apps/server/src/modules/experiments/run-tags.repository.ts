import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import { experimentIdsOf } from './experiments.repository.js';

/**
 * Runs' key/value tags (MLflow's `set_tag`, the run page's Tags panel), a property of the run
 * read by the core (compare) and by MLflow; they are stored in migration 010's `mlflow_run_tags`
 * (MLflow's repository writes them). The reads that join them to experiments live here, beside
 * the experiments, so each stays one statement.
 */
export function runTags(db: Kysely<DB>, experimentIds: readonly string[]) {
  if (experimentIds.length === 0) return Promise.resolve([]);
  return db.selectFrom('mlflow_run_tags').selectAll().where('experiment_id', 'in', experimentIds).orderBy('key').execute();
}

/** A run of the workspace carrying a tag with this value (`tora import-mlflow`'s source marker). */
export async function findRunByTag(db: Kysely<DB>, workspaceId: string, key: string, value: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('mlflow_run_tags')
    .select('experiment_id')
    .where('experiment_id', 'in', experimentIdsOf(db, { workspaceId }))
    .where('key', '=', key)
    .where('value', '=', value)
    .executeTakeFirst();
  return row?.experiment_id;
}

/**
 * The run a tag of this run names as its parent (MLflow's `mlflow.parentRunId`): the run's own
 * group, the tag's value and the parent's name when the parent is a run of the same workspace;
 * undefined when the run has no such tag.
 */
export function parentByTag(
  db: Kysely<DB>,
  experimentId: string,
  key: string,
): Promise<{ run_group: string | null; parentId: string; parentName: string | null } | undefined> {
  return db
    .selectFrom('experiments as e')
    .innerJoin('mlflow_run_tags as t', (join) => join.onRef('t.experiment_id', '=', 'e.id').on('t.key', '=', key))
    .leftJoin('experiments as p', (join) => join.onRef('p.id', '=', 't.value').onRef('p.workspace_id', '=', 'e.workspace_id'))
    .select(['e.run_group', 't.value as parentId', 'p.name as parentName'])
    .where('e.id', '=', experimentId)
    .executeTakeFirst();
}
