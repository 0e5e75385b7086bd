import { sql, type Kysely } from 'kysely';
import type { DialectHelpers } from './dialect.js';
import * as m001 from './migrations/001-initial.js';
import * as m002 from './migrations/002-block-windows.js';
import * as m003 from './migrations/003-metric-directions.js';
import * as m004 from './migrations/004-experiment-hyperparams.js';
import * as m005 from './migrations/005-uncompressed-blocks.js';
import * as m009 from './migrations/009-api-key-scope.js';
import * as m010 from './migrations/010-mlflow.js';
import * as m012 from './migrations/012-experiment-group-run-info.js';
import * as m013 from './migrations/013-mlflow-logged-models.js';
import * as m014 from './migrations/014-mlflow-deleted-index.js';
import * as m015 from './migrations/015-experiment-files.js';
import * as m016 from './migrations/016-mlflow-run-inputs.js';
import * as m017 from './migrations/017-mlflow-registry.js';
import * as m018 from './migrations/018-window-sums.js';
import * as m019 from './migrations/019-login-failures.js';
import * as m020 from './migrations/020-workspace-invites.js';
import * as m021 from './migrations/021-media-thumbnails.js';
import * as m022 from './migrations/022-mlflow-model-metrics.js';
import * as m023 from './migrations/023-metric-series-figures-index.js';
import * as m024 from './migrations/024-mlflow-dataset-input-order.js';
import * as m025 from './migrations/025-experiments-workspace-id-index.js';

interface Migration {
  version: number;
  name: string;
  up(db: Kysely<any>, dialect: DialectHelpers): Promise<void>;
}

const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'initial', up: m001.up },
  { version: 2, name: 'block-windows', up: m002.up },
  { version: 3, name: 'metric-directions', up: m003.up },
  { version: 4, name: 'experiment-hyperparams', up: m004.up },
  { version: 5, name: 'uncompressed-blocks', up: m005.up },
  { version: 9, name: 'api-key-scope', up: m009.up },
  { version: 10, name: 'mlflow', up: m010.up },
  { version: 12, name: 'experiment-group-run-info', up: m012.up },
  { version: 13, name: 'mlflow-logged-models', up: m013.up },
  { version: 14, name: 'mlflow-deleted-index', up: m014.up },
  { version: 15, name: 'experiment-files', up: m015.up },
  { version: 16, name: 'mlflow-run-inputs', up: m016.up },
  { version: 17, name: 'mlflow-registry', up: m017.up },
  { version: 18, name: 'window-sums', up: m018.up },
  { version: 19, name: 'login-failures', up: m019.up },
  { version: 20, name: 'workspace-invites', up: m020.up },
  { version: 21, name: 'media-thumbnails', up: m021.up },
  { version: 22, name: 'mlflow-model-metrics', up: m022.up },
  { version: 23, name: 'metric-series-figures-index', up: m023.up },
  { version: 24, name: 'mlflow-dataset-input-order', up: m024.up },
  { version: 25, name: 'experiments-workspace-id-index', up: m025.up },
];

/** The advisory lock key every PostgreSQL server takes to migrate: one migrates, the others wait. */
const MIGRATION_LOCK = 7203114;

/**
 * Applies every migration newer than the database, each in its own transaction. Returns those applied.
 * On PostgreSQL the whole run holds a session advisory lock: of several servers starting at once on
 * one database, one migrates and the others wait for it, then find nothing left to do.
 */
export async function migrate(db: Kysely<any>, dialect: DialectHelpers): Promise<number[]> {
  if (!dialect.rowLocks) return migrateAlone(db, dialect);
  return db.connection().execute(async (conn) => {
    // The wait for another server's migrations is not bounded by the serving statement timeout.
    await sql`set statement_timeout = 0`.execute(conn);
    await sql`select pg_advisory_lock(${MIGRATION_LOCK})`.execute(conn);
    try {
      return await migrateAlone(conn, dialect);
    } finally {
      await sql`select pg_advisory_unlock(${MIGRATION_LOCK})`.execute(conn);
      await sql`reset statement_timeout`.execute(conn);
    }
  });
}

async function migrateAlone(db: Kysely<any>, dialect: DialectHelpers): Promise<number[]> {
  await db.schema
    .createTable('tora_migrations')
    .ifNotExists()
    .addColumn('version', 'integer', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('applied_at', 'bigint', (c) => c.notNull())
    .execute();
  const applied: number[] = [];
  for (const migration of MIGRATIONS) {
    const done = await db.transaction().execute(async (trx) => {
      // A migration may rewrite a large table: the serving statement timeout is not for it.
      if (dialect.rowLocks) await sql`set local statement_timeout = 0`.execute(trx);
      const row = await trx
        .selectFrom('tora_migrations')
        .select('version')
        .where('version', '=', migration.version)
        .executeTakeFirst();
      if (row) return false;
      await migration.up(trx, dialect);
      await trx
        .insertInto('tora_migrations')
        .values({ version: migration.version, name: migration.name, applied_at: Date.now() })
        .execute();
      return true;
    });
    if (done) applied.push(migration.version);
  }
  return applied;
}
