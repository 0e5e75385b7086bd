import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';

/**
 * Runs' key/value tags (MLflow's `set_tag`, the run page's Tags panel), a property of the run
 * read by the core (compare) and by MLflow; they are stored in migration 010's `mlflow_run_tags`.
 */
export function runTags(db: Kysely<DB>, experimentIds: readonly string[]) {
  if (experimentIds.length === 0) return Promise.resolve([]);
  return db.selectFrom('mlflow_run_tags').selectAll().where('experiment_id', 'in', experimentIds).orderBy('key').execute();
}
