/**
 * MLflow's system tags (set by `mlflow.start_run`, integrations and the UI) under the names the
 * experiment page shows as "Run info". Pure, so the experiment response can call it once the
 * experiment DTO carries `runInfo`.
 *
 * @example
 *   runInfoFromMlflowTags({ 'mlflow.user': 'ada', 'mlflow.source.git.commit': 'abc123', lr: '0.1' })
 *   // → { user: 'ada', 'git.commit': 'abc123' }
 */
const RUN_INFO_KEYS: Readonly<Record<string, string>> = {
  'mlflow.source.name': 'source',
  'mlflow.source.type': 'source.type',
  'mlflow.source.git.commit': 'git.commit',
  'mlflow.source.git.branch': 'git.branch',
  'mlflow.source.git.repoURL': 'git.repo',
  'mlflow.gitRepoURL': 'git.repo',
  'mlflow.user': 'user',
  'mlflow.note.content': 'notes',
  'mlflow.parentRunId': 'parent',
  'mlflow.project.entryPoint': 'command',
  'mlflow.docker.image.name': 'docker.image',
  'mlflow.databricks.notebookPath': 'source',
};

export function runInfoFromMlflowTags(tags: Record<string, string>): Record<string, string> {
  const info: Record<string, string> = {};
  for (const [key, value] of Object.entries(tags)) {
    const name = RUN_INFO_KEYS[key];
    // The first tag naming a field wins (mlflow.source.name over a notebook path).
    if (name !== undefined && value !== '' && info[name] === undefined) info[name] = value;
  }
  return info;
}

/** The run-info names that MLflow tags fill: replaced whenever the run's tags change. */
const MLFLOW_RUN_INFO_NAMES: ReadonlySet<string> = new Set(Object.values(RUN_INFO_KEYS));

/**
 * A run's `runInfo` after its MLflow tags changed: what the tags say now, over whatever else the
 * run carried (e.g. context the Tora client captured), so a deleted tag disappears from the page.
 */
export function mergeRunInfo(current: Record<string, string>, tags: Record<string, string>): Record<string, string> {
  const kept = Object.entries(current).filter(([name]) => !MLFLOW_RUN_INFO_NAMES.has(name));
  return { ...Object.fromEntries(kept), ...runInfoFromMlflowTags(tags) };
}
