import type { ExperimentStatus } from '../../lib/schemas.js';
import type { Hyperparam } from './hyperparams.js';

/**
 * An experiment (an MLflow run) as the services see it: hyperparameters, tags and run info decoded.
 * The repository converts it to and from its row (`fromRow`/`toRow` in experiments.repository.ts)
 * and keeps the per-key copies of tags and hyperparameters in step with it; no service reads the
 * JSON columns.
 */
export interface Experiment {
  id: string;
  workspaceId: string;
  name: string;
  /** '' when it has none (the API shows null). */
  description: string;
  hyperparams: Hyperparam[];
  tags: string[];
  visibility: string;
  /** As stored: a running experiment gone silent reads "crashed" only through `effectiveStatus`. */
  status: ExperimentStatus;
  referenceId: string | null;
  group: string | null;
  /** Git commit, command line, host, package versions: strings by name. */
  runInfo: Record<string, string>;
  createdBy: string | null;
  createdAt: number;
  updatedAt: number;
  lastActivityAt: number;
}

/** What may change after creation; the repository writes the JSON columns and per-key copies it touches. */
export type ExperimentPatch = Partial<Omit<Experiment, 'id' | 'workspaceId' | 'createdBy' | 'createdAt' | 'visibility'>>;

/**
 * A new experiment, running and empty unless `fields` says otherwise: what every door that creates
 * one (Tora's route, MLflow's runs/create) starts from.
 *
 * @example newExperiment({ id, workspaceId, name: 'sweep-1', createdBy: userId, now })
 */
export function newExperiment(
  fields: Pick<Experiment, 'id' | 'workspaceId' | 'name' | 'createdBy'> & { now: number } & Partial<Experiment>,
): Experiment {
  const { now, ...given } = fields;
  return {
    description: '',
    hyperparams: [],
    tags: [],
    // Every experiment is private to its workspace (see Visibility in experiments.schemas.ts).
    visibility: 'PRIVATE',
    status: 'running',
    referenceId: null,
    group: null,
    runInfo: {},
    createdAt: now,
    updatedAt: now,
    lastActivityAt: now,
    ...given,
  };
}
