// Writes runs straight into a migrated Tora database (SQLite file or PostgreSQL URL): the shape of
// the audit's workspace (12,000 runs, each with a few metrics, params and MLflow tags), in seconds
// rather than the minutes 24,000 HTTP calls would take. Only the rows the searches read are made.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../apps/server/package.json', import.meta.url));

const METRICS = ['loss', 'acc', 'lr', 'epoch', 'val_loss'];
const PARAMS = ['alpha', 'beta', 'gamma', 'delta', 'optimizer'];
const TAGS = ['team', 'dataset', 'stage'];

function rowsFor(workspaceId, userId, runs, now) {
  const experiments = [];
  const series = [];
  const params = [];
  const tags = [];
  for (let i = 0; i < runs; i++) {
    const id = `seed-${workspaceId.slice(0, 8)}-${String(i).padStart(6, '0')}`;
    const hp = PARAMS.map((key, k) => ({
      key,
      value: key === 'optimizer' ? ['adam', 'sgd'][i % 2] : String((i * (k + 1)) % 97),
    }));
    experiments.push([
      id,
      workspaceId,
      `run-${i}`,
      '',
      JSON.stringify(hp),
      '[]',
      'PRIVATE',
      'finished',
      null,
      userId,
      now - i * 1000,
      now,
      now,
      null,
      '{}',
    ]);
    METRICS.forEach((name, k) => series.push([id, name, 10, 1, 0, 9, (i % 100) / 100 + k, 0, 10, 0, now]));
    hp.forEach(({ key, value }) => {
      const n = Number(value);
      params.push([id, key, Number.isFinite(n) ? n : null, value]);
    });
    TAGS.forEach((key, k) => tags.push([id, key, `${key}-${(i + k) % 7}`]));
  }
  return { experiments, series, params, tags };
}

const COLUMNS = {
  experiments:
    'id, workspace_id, name, description, hyperparams, tags, visibility, status, reference_id, created_by, created_at, updated_at, last_activity_at, run_group, run_info',
  metric_series:
    'experiment_id, name, point_count, block_count, first_step, last_step, last_value, min_value, max_value, nan_count, updated_at',
  experiment_hyperparams: 'experiment_id, key, num_value, text_value',
  mlflow_run_tags: 'experiment_id, key, value',
};

/** Inserts `runs` runs into the workspace; `target` is `{ pgUrl }` or `{ sqliteFile }`. */
export async function seedRuns(target, { workspaceId, userId, runs, now = Date.now() }) {
  const data = rowsFor(workspaceId, userId, runs, now);
  const tables = [
    ['experiments', data.experiments],
    ['metric_series', data.series],
    ['experiment_hyperparams', data.params],
    ['mlflow_run_tags', data.tags],
  ];
  if (target.pgUrl) {
    const pg = require('pg');
    const client = new pg.Client({ connectionString: target.pgUrl });
    await client.connect();
    await client.query('begin');
    for (const [table, rows] of tables) {
      const width = rows[0].length;
      for (let i = 0; i < rows.length; i += 1000) {
        const chunk = rows.slice(i, i + 1000);
        const values = chunk.map((_, r) => `(${Array.from({ length: width }, (_, c) => `$${r * width + c + 1}`).join(', ')})`);
        await client.query(`insert into ${table} (${COLUMNS[table]}) values ${values.join(', ')}`, chunk.flat());
      }
    }
    await client.query('commit');
    await client.query('analyze');
    await client.end();
    return;
  }
  const Sqlite = require('better-sqlite3');
  const db = new Sqlite(target.sqliteFile);
  db.pragma('busy_timeout = 10000');
  db.transaction(() => {
    for (const [table, rows] of tables) {
      const stmt = db.prepare(`insert into ${table} (${COLUMNS[table]}) values (${rows[0].map(() => '?').join(', ')})`);
      for (const row of rows) stmt.run(row);
    }
  })();
  db.exec('analyze');
  db.close();
}
