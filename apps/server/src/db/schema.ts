import type { Generated } from 'kysely';
import type { ExperimentStatus, MetricDirection, Role } from '../lib/schemas.js';

export type { MetricDirection, Role };

/** Row types of Tora's tables. Times are epoch milliseconds; JSON columns are text. */
export interface UsersTable {
  id: string;
  email: string;
  password_hash: string;
  default_workspace_id: string | null;
  created_at: number;
}

interface SessionsTable {
  id: string; // SHA-256 of the cookie token
  user_id: string;
  created_at: number;
  expires_at: number;
}

/** A failed-login counter (migration 019): `<kind>:<sha256 of what it counts>`, one fixed window each. */
interface LoginFailuresTable {
  key: string;
  window_start: number;
  count: number;
}

export interface ApiKeysTable {
  id: string;
  user_id: string;
  name: string;
  prefix: string;
  key_hash: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
  /** Epoch ms after which the key is refused; null: never (migration 009). */
  expires_at: number | null;
  /** 'read' for a read-only key; null: full access (migration 009). */
  scope: 'read' | null;
}

interface WorkspacesTable {
  id: string;
  name: string;
  description: string;
  created_at: number;
  updated_at: number;
}

interface WorkspaceMembersTable {
  workspace_id: string;
  user_id: string;
  role: Role;
  created_at: number;
}

/** An invite link to a workspace; the token itself is never stored, only its SHA-256. */
export interface WorkspaceInvitesTable {
  id: string;
  workspace_id: string;
  token_hash: string;
  role: Role;
  /** When set, only this (normalized) address may sign up with the link. */
  email: string | null;
  created_by: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  used_by: string | null;
  revoked_at: number | null;
}

export interface ExperimentsTable {
  id: string;
  workspace_id: string;
  name: string;
  description: string;
  hyperparams: string; // JSON list of {key, value}
  tags: string; // JSON list of strings
  visibility: string;
  status: ExperimentStatus;
  reference_id: string | null;
  /** The experiment's group (migration 012); NULL when it has none. */
  run_group: string | null;
  /** JSON object of strings: git commit, command line, host, package versions (migration 012). */
  run_info: string;
  created_by: string | null;
  created_at: number;
  updated_at: number;
  last_activity_at: number;
}

interface ExperimentHyperparamsTable {
  experiment_id: string;
  key: string;
  /** Numbers and booleans (as 0/1); NULL for strings and nulls. */
  num_value: number | null;
  text_value: string | null;
}

interface ExperimentTagsTable {
  experiment_id: string;
  tag: string;
}

export interface MetricSeriesTable {
  id: Generated<number>;
  experiment_id: string;
  name: string;
  point_count: number;
  block_count: number;
  first_step: number;
  last_step: number;
  /** NULL when the last value is NaN (SQLite cannot store NaN). */
  last_value: number | null;
  /** Extremes over non-NaN values; NULL while every value is NaN. */
  min_value: number | null;
  max_value: number | null;
  nan_count: number;
  updated_at: number;
}

export interface MetricBlocksTable {
  series_id: number;
  seq: number;
  step_min: number;
  step_max: number;
  point_count: number;
  first_step: number;
  first_value: number | null;
  last_step: number;
  last_value: number | null;
  min_value: number | null;
  min_step: number | null;
  max_value: number | null;
  max_step: number | null;
  nan_count: number;
  /** Packed little-endian float64 columns: steps, values, times. */
  data: Uint8Array;
  /** JSON array aligned with the points, or NULL when no point has metadata. */
  metadata: string | null;
  /** Window summaries (modules/metrics/windows.ts), or NULL where reads decode the points. */
  windows: Uint8Array | null;
  /** Float64 sum of the non-NaN values of each window, in the order of `windows` (migration 017). */
  window_sums: Uint8Array | null;
}

interface MetricBatchesTable {
  experiment_id: string;
  batch_id: string;
  point_count: number;
  fingerprint: string | null;
  created_at: number;
}

interface MetricDirectionsTable {
  workspace_id: string;
  name: string;
  direction: MetricDirection;
  updated_at: number;
}

/** MLflow tags of a run (a Tora experiment), key → value. */
interface MlflowRunTagsTable {
  experiment_id: string;
  key: string;
  value: string;
}

/** What an MLflow run has beyond a Tora experiment; a row exists for runs touched through the MLflow API. */
interface MlflowRunsTable {
  experiment_id: string;
  end_time: number | null;
  /** MLflow's soft delete (runs/delete); NULL while active. Partial index mlflow_runs_deleted_idx (migration 014). */
  deleted_at: number | null;
}

interface MlflowExperimentTagsTable {
  workspace_id: string;
  key: string;
  value: string;
}

interface MlflowExperimentsTable {
  workspace_id: string;
  deleted_at: number | null;
}

/** An MLflow 3 logged model (`mlflow.<flavor>.log_model`); its files live under the artifact store. */
export interface MlflowLoggedModelsTable {
  id: string;
  workspace_id: string;
  /** The run that produced it (its files then live beside the run's); NULL for a model of the experiment. */
  source_run_id: string | null;
  /** The `source_run_id` the client gave, any string as MLflow keeps it (migration 022); NULL when none. */
  given_source_run_id: string | null;
  name: string;
  model_type: string;
  /** LOGGED_MODEL_PENDING until finalized, then LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED. */
  status: string;
  status_message: string;
  /** JSON arrays of `{key, value}`. */
  tags: string;
  params: string;
  created_by: string;
  created_at: number;
  updated_at: number;
}

/** A file of a run (under its `artifacts/`), migration 015; the bytes are in the blob store. */
export interface ExperimentFilesTable {
  experiment_id: string;
  /** Relative to the run's files, `/`-separated. */
  path: string;
  size: number;
  sha256: string;
  content_type: string;
  updated_at: number;
}

/** An image among a run's files, by key (`name`) and step, migration 015. */
export interface ExperimentMediaTable {
  experiment_id: string;
  path: string;
  name: string;
  step: number;
  content_type: string;
  width: number;
  height: number;
  size: number;
  /** The type of the smaller copy Tora made (migration 021): NULL while none was tried, '' for none. */
  thumbnail_type?: string | null;
}

/** A dataset a run used (`runs/log-inputs`), once per (run, name, digest); migration 015. */
export interface MlflowDatasetInputsTable {
  experiment_id: string;
  name: string;
  digest: string;
  source_type: string;
  source: string;
  schema: string | null;
  profile: string | null;
  /** The `mlflow.data.context` input tag ("training", "eval", …), NULL when none was given. */
  context: string | null;
  /** The input tags, a JSON array of `{key, value}`. */
  tags: string;
  created_at: number;
  /** Its place in the request that logged it: a run's datasets read back in the order logged. */
  position: number;
}

/** A logged model a run read (direction 'input', step 0) or wrote (`runs/outputs`, 'output'). */
export interface MlflowRunModelsTable {
  experiment_id: string;
  model_id: string;
  direction: 'input' | 'output';
  step: number;
  created_at: number;
}

/** A point logged with `model_id`: a metric of that logged model (migration 022). */
export interface MlflowLoggedModelMetricsTable {
  model_id: string;
  run_id: string;
  key: string;
  /** NULL for NaN. */
  value: number | null;
  timestamp: number;
  step: number;
  /** '' when the point names no dataset. */
  dataset_name: string;
  dataset_digest: string;
}

/** A registered model of MLflow's registry, in a workspace (migration 016). */
export interface MlflowRegisteredModelsTable {
  id: string;
  workspace_id: string;
  name: string;
  description: string;
  /** JSON arrays: `{key, value}` tags and `{alias, version}` aliases. */
  tags: string;
  aliases: string;
  /** The number the next version gets (never reused after a delete). */
  next_version: number;
  created_by: string;
  created_at: number;
  updated_at: number;
}

/** A numbered version of a registered model. */
export interface MlflowModelVersionsTable {
  registered_model_id: string;
  version: number;
  /** Where its files are, as the client gave it: `models:/<logged model>`, `runs:/<run>/<path>`, a URI. */
  source: string;
  run_id: string | null;
  logged_model_id: string | null;
  run_link: string;
  description: string;
  /** None, Staging, Production or Archived (MLflow's deprecated stages, still accepted). */
  stage: string;
  /** JSON array of `{key, value}`. */
  tags: string;
  created_by: string;
  created_at: number;
  updated_at: number;
}

export interface DB {
  users: UsersTable;
  sessions: SessionsTable;
  login_failures: LoginFailuresTable;
  api_keys: ApiKeysTable;
  workspaces: WorkspacesTable;
  workspace_members: WorkspaceMembersTable;
  workspace_invites: WorkspaceInvitesTable;
  experiments: ExperimentsTable;
  experiment_tags: ExperimentTagsTable;
  experiment_hyperparams: ExperimentHyperparamsTable;
  metric_series: MetricSeriesTable;
  metric_blocks: MetricBlocksTable;
  metric_batches: MetricBatchesTable;
  metric_directions: MetricDirectionsTable;
  mlflow_run_tags: MlflowRunTagsTable;
  mlflow_runs: MlflowRunsTable;
  mlflow_experiment_tags: MlflowExperimentTagsTable;
  mlflow_experiments: MlflowExperimentsTable;
  mlflow_logged_models: MlflowLoggedModelsTable;
  mlflow_logged_model_metrics: MlflowLoggedModelMetricsTable;
  experiment_files: ExperimentFilesTable;
  experiment_media: ExperimentMediaTable;
  mlflow_dataset_inputs: MlflowDatasetInputsTable;
  mlflow_run_models: MlflowRunModelsTable;
  mlflow_registered_models: MlflowRegisteredModelsTable;
  mlflow_model_versions: MlflowModelVersionsTable;
}
