import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { Config } from '../config.js';
import { dialectHelpers, type DialectHelpers } from './dialect.js';
import type { DB } from './schema.js';

export interface Database {
  readonly db: Kysely<DB>;
  readonly dialect: DialectHelpers;
  /** Where the data lives, for logs: a file path or the PostgreSQL host/database (no password). */
  readonly location: string;
  close(): Promise<void>;
}

const INT8_OID = 20;

// Counts and epoch-millisecond times are int8; they fit a JS number. Per pool, not pg's global.
const int8AsNumber = ((oid: number, format?: 'text' | 'binary') =>
  oid === INT8_OID
    ? (v: string): number => Number(v)
    : (pg.types.getTypeParser(oid, format) as unknown)) as typeof pg.types.getTypeParser;

function describePostgres(url: string): string {
  try {
    const u = new URL(url);
    return `postgres://${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return 'postgres';
  }
}

const STATEMENT_CACHE = 256;

/**
 * Kysely prepares every query anew; with better-sqlite3 a prepared statement can be reused, so
 * keep the most recent ones by SQL text (a hot ingest path runs the same few dozen).
 */
function withStatementCache(sqlite: SqliteDatabase.Database): SqliteDatabase.Database {
  const cache = new Map<string, SqliteDatabase.Statement>();
  const prepare = sqlite.prepare.bind(sqlite);
  return new Proxy(sqlite, {
    get(target, prop, receiver) {
      if (prop !== 'prepare') return Reflect.get(target, prop, receiver) as unknown;
      return (source: string) => {
        let stmt = cache.get(source);
        if (stmt) {
          cache.delete(source); // re-insert: most recently used last
        } else {
          stmt = prepare(source);
          if (cache.size >= STATEMENT_CACHE) cache.delete(cache.keys().next().value as string);
        }
        cache.set(source, stmt);
        return stmt;
      };
    },
  });
}

/** Opens the configured database (SQLite file under dataDir, or PostgreSQL). Does not migrate. */
export function openDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir'>): Database {
  if (config.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: config.databaseUrl,
      max: 10,
      types: { getTypeParser: int8AsNumber },
    });
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    return { db, dialect: dialectHelpers('postgres'), location: describePostgres(config.databaseUrl), close: () => db.destroy() };
  }
  fs.mkdirSync(config.dataDir, { recursive: true });
  const file = path.join(config.dataDir, 'tora.db');
  const sqlite = new SqliteDatabase(file);
  // Blocks are blobs of ~100 KB: larger pages mean shorter overflow chains to read (only takes effect on a new file).
  sqlite.pragma('page_size = 32768');
  sqlite.pragma('journal_mode = WAL');
  // FULL: a 2xx means the batch survives power loss, not only a process crash.
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('cache_size = -65536');
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  return { db, dialect: dialectHelpers('sqlite'), location: file, close: () => db.destroy() };
}
