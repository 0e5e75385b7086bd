/**
 * The file `tora export` writes and `tora import` reads: experiments with every point, as JSON
 * lines, between any two Tora databases (e.g. the embedded SQLite a team started with and the
 * PostgreSQL it moves to).
 *
 * The file is a header line, then per experiment one `experiment` line followed by its
 * `points` lines (≤ CHUNK_POINTS points of one metric each, columns as base64 float64 so every
 * value, NaN and ±Infinity included, survives bit for bit), then an `end` line with the totals,
 * so a truncated file is told from a complete one. Import feeds each chunk through the same
 * parser and ingest path as the batch API, under a batch id derived from its position: an
 * interrupted import is finished by running it again, and nothing arrives twice.
 *
 * Version 2 added what the MLflow API keeps beside Tora's model (migration 010): a run's MLflow
 * tags, end time and soft deletion on its experiment line, the MLflow experiment tags on the
 * workspace, and with `--accounts` the mlflow_experiments / mlflow_experiment_tags tables. Version 1
 * files (without them) still import; a version-1 server refuses a version-2 file by its header
 * rather than dropping the MLflow data without a word.
 *
 * Version 3 added the runs' files (`file` and `fileData` lines after an experiment's points, see
 * transfer.files.ts; `tora export --no-files` leaves them out) and a `files` total on the end line.
 */
import { createHash } from 'node:crypto';

export const FORMAT = 'tora-export';
export const FORMAT_VERSION = 3;
/** Versions this server imports. */
export const READABLE_VERSIONS: readonly number[] = [1, 2, 3];
export const CHUNK_POINTS = 50_000;

/** Account tables copied row for row by `--accounts`, in an order their references allow. */
export const ACCOUNT_TABLES = [
  'users',
  'workspaces',
  'workspace_members',
  'api_keys',
  'metric_directions',
  // MLflow experiments are workspaces: their soft deletion and tags travel with them (version 2).
  'mlflow_experiments',
  'mlflow_experiment_tags',
] as const;
export type AccountTable = (typeof ACCOUNT_TABLES)[number];

/** The columns of each account table that travel (the whole row, named so nothing else slips in). */
export const ACCOUNT_COLUMNS: Record<AccountTable, readonly string[]> = {
  users: ['id', 'email', 'password_hash', 'default_workspace_id', 'created_at'],
  workspaces: ['id', 'name', 'description', 'created_at', 'updated_at'],
  workspace_members: ['workspace_id', 'user_id', 'role', 'created_at'],
  // expires_at and scope are absent from exports made before migration 009: null, as then.
  api_keys: ['id', 'user_id', 'name', 'prefix', 'key_hash', 'created_at', 'last_used_at', 'revoked_at', 'expires_at', 'scope'],
  metric_directions: ['workspace_id', 'name', 'direction', 'updated_at'],
  mlflow_experiments: ['workspace_id', 'deleted_at'],
  mlflow_experiment_tags: ['workspace_id', 'key', 'value'],
};

export interface KeyValueRecord {
  key: string;
  value: string;
}

/** What a run touched through the MLflow API has beyond a Tora experiment (times in epoch ms, as MLflow's). */
export interface MlflowRunRecord {
  tags: KeyValueRecord[];
  endTime: number | null;
  /** runs/delete: the run stays hidden from Tora's views (and restorable through MLflow) after import. */
  deletedAt: number | null;
}

export interface TransferProgress {
  (message: string): void;
}

export interface ExperimentRecord {
  type: 'experiment';
  id: string;
  name: string;
  description: string;
  hyperparams: unknown;
  tags: string[];
  visibility: string;
  status: string;
  referenceId: string | null;
  /** Absent in exports made before migration 012. */
  group?: string | null;
  runInfo?: Record<string, string>;
  /** mlflowTags: the MLflow experiment tags of the workspace (version 2; absent when none). */
  workspace: { id: string; name: string; mlflowTags?: KeyValueRecord[] };
  /** Version 2; absent for an experiment never touched through the MLflow API. */
  mlflow?: MlflowRunRecord;
  createdBy: string | null;
  createdAt: string;
  updatedAt: string;
  lastActivityAt: string;
}

export interface PointsRecord {
  type: 'points';
  experimentId: string;
  name: string;
  /** Position of this chunk in its series (0, 1, …): with the ids, it names the import batch. */
  chunk: number;
  /** When the series last received points. */
  seriesUpdatedAt: string;
  stepsF64: string;
  valuesF64: string;
  timesF64: string;
  metadata?: unknown[];
}

/** Batch id of one imported chunk: the same file imported twice names the same batches. */
export function chunkBatchId(experimentId: string, name: string, chunk: number): string {
  return `import-${createHash('sha256').update(`${experimentId}\u0000${name}\u0000${chunk}`).digest('base64url')}`;
}
