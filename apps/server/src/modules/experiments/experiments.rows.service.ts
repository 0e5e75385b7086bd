import type { Kysely } from 'kysely';
import type { AppContext } from '../../context.js';
import type { DB } from '../../db/schema.js';
import type { Experiment, ExperimentPatch } from './experiment.js';
import * as repo from './experiments.repository.js';
import type { Hyperparam } from './hyperparams.js';
import { findRunByTag as findRunByTagIn, parentByTag as parentIn, runTags } from './run-tags.repository.js';
import { setExperimentTrashed } from './trash.repository.js';

/**
 * Experiments by id, for the doors that check access their own way first (MLflow's translator:
 * `runForCaller`, `workspaceFor`, which see trashed runs and workspaces). The writes take the
 * executor, so the caller's transaction holds them together with its own rows (MLflow's run
 * extras and tags, the points of a log-batch): one atomic write stays one.
 *
 * @example await ctx.db.transaction().execute(async (trx) => { await insertExperiment(trx, row); … })
 */

/** The experiment, trashed or not; undefined when there is none. */
export function findExperiment(db: Kysely<DB>, id: string): Promise<Experiment | undefined> {
  return repo.findExperiment(db, id);
}

/** The experiments of these ids in that order, trashed or not (a page of MLflow's runs/search). */
export function experimentsInOrder(ctx: AppContext, ids: readonly string[]): Promise<Experiment[]> {
  return repo.findExperimentsInOrder(ctx.db, ids);
}

/** The ids of one page of runs of these workspaces (MLflow's runs/search; `crashedBefore` from `status.ts`). */
export function searchRunIds(ctx: AppContext, q: repo.RunQuery): Promise<string[]> {
  return repo.searchRunIds(ctx.db, ctx.dialect, q);
}

/** Runs' key/value tags, by key (MLflow's `set_tag`); read in the caller's transaction where it has one. */
export function runTagsOf(db: Kysely<DB>, experimentIds: readonly string[]): ReturnType<typeof runTags> {
  return runTags(db, experimentIds);
}

/** A run of the workspace carrying a tag with this value; undefined when none does. */
export function findRunByTag(ctx: AppContext, workspaceId: string, key: string, value: string): Promise<string | undefined> {
  return findRunByTagIn(ctx.db, workspaceId, key, value);
}

/** What the run's parent tag (`key`) names: the run's group, the parent id and, in the same workspace, the parent's name. */
export function parentByTag(db: Kysely<DB>, experimentId: string, key: string): ReturnType<typeof parentIn> {
  return parentIn(db, experimentId, key);
}

/** Stores a new experiment (made by `newExperiment`) with its per-key tags and hyperparameters. */
export function insertExperiment(trx: Kysely<DB>, e: Experiment): Promise<void> {
  return repo.insertExperiment(trx, e);
}

/** Changes the experiment; its per-key copies follow. */
export function updateExperiment(trx: Kysely<DB>, id: string, patch: ExperimentPatch): Promise<void> {
  return repo.updateExperiment(trx, id, patch);
}

/** The experiment, locked for the rest of the caller's transaction (PostgreSQL; SQLite serialises writers). */
export function lockExperiment(trx: Kysely<DB>, ctx: AppContext, id: string): Promise<Experiment | undefined> {
  return repo.lockExperiment(trx, ctx.dialect, id);
}

/** Adds hyperparameters under keys the (locked) experiment does not have yet. */
export function addHyperparams(
  trx: Kysely<DB>,
  experiment: Pick<Experiment, 'id' | 'hyperparams'>,
  added: readonly Hyperparam[],
  opts: { numericText: boolean },
): Promise<void> {
  return repo.addHyperparams(trx, experiment, added, opts);
}

/** Trashes the experiment now, or restores it (MLflow's runs/delete, runs/restore). */
export function setTrashed(ctx: AppContext, id: string, trashed: boolean): Promise<void> {
  return setExperimentTrashed(ctx.db, id, trashed ? ctx.clock() : null);
}
