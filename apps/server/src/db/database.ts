import { AsyncLocalStorage } from 'node:async_hooks';
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
  /**
   * Runs `fn` so that, on PostgreSQL, the statements it runs are cancelled when `signal` aborts (the
   * client went away): a runaway query stops costing the database. SQLite runs each statement to
   * its end on the server's own thread, so there it only runs `fn`.
   */
  cancellable<T>(signal: AbortSignal, fn: () => T): T;
  /** Hears each lost PostgreSQL connection (restart, failover, idle timeout); the pool reconnects by itself. */
  onConnectionLost(listener: (err: Error) => void): void;
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

/**
 * The pg pool, made to survive its database going away: without an `error` listener a connection
 * dropped by PostgreSQL (restart, failover, a proxy's idle timeout) is an uncaught error that ends
 * the process. Broken connections leave the pool and the next query opens a new one, so queries
 * fail (503) while the database is away and succeed again once it is back.
 */
function openPostgres(url: string, statementTimeoutMs: number, poolSize: number): Database {
  const lost = new Set<(err: Error) => void>();
  const report = (err: Error) => lost.forEach((listener) => listener(err));
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    types: { getTypeParser: int8AsNumber },
    // Every statement is bounded (0: no bound); a request never waits on a query forever.
    ...(statementTimeoutMs > 0 ? { statement_timeout: statementTimeoutMs } : {}),
    // While the database is down, a request waits at most this long for a connection, then 503.
    connectionTimeoutMillis: 5_000,
  });
  // Every client reports its own loss, checked out or idle (pg-pool listens only while idle, and then
  // re-emits on the pool, which must have a listener too).
  pool.on('connect', (client) => client.on('error', report));
  pool.on('error', () => undefined);

  // Which client each in-flight request holds, to cancel its statement when the request's signal aborts.
  const requestSignal = new AsyncLocalStorage<AbortSignal>();
  const cancelling: Pick<pg.Pool, 'connect' | 'end'> = {
    async connect() {
      const client = await pool.connect();
      const signal = requestSignal.getStore();
      if (!signal) return client;
      const cancel = () => void cancelBackend(url, client);
      signal.addEventListener('abort', cancel, { once: true });
      const release = client.release.bind(client);
      client.release = (err?: Error | boolean) => {
        signal.removeEventListener('abort', cancel);
        client.release = release;
        return release(err);
      };
      return client;
    },
    end: () => pool.end(),
  };
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: cancelling }) });
  return {
    db,
    dialect: dialectHelpers('postgres'),
    location: describePostgres(url),
    cancellable: (signal, fn) => requestSignal.run(signal, fn),
    onConnectionLost: (listener) => lost.add(listener),
    close: () => db.destroy(),
  };
}

/**
 * Asks PostgreSQL to cancel what `client` is running (the protocol's cancel request, on a
 * connection of its own: the pool may be exhausted). Best effort: the query may have ended.
 */
async function cancelBackend(url: string, client: pg.PoolClient): Promise<void> {
  const pid = (client as unknown as { processID?: number }).processID;
  if (pid === undefined) return;
  const canceller = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  canceller.on('error', () => undefined);
  try {
    await canceller.connect();
    await canceller.query('select pg_cancel_backend($1)', [pid]);
  } catch {
    // The database is away or the query already ended: nothing left to cancel.
  } finally {
    await canceller.end().catch(() => undefined);
  }
}

/** Opens the configured database (SQLite file under dataDir, or PostgreSQL). Does not migrate. */
export function openDatabase(
  config: Pick<Config, 'databaseUrl' | 'dataDir'> & Partial<Pick<Config, 'statementTimeoutMs' | 'dbPoolSize'>>,
): Database {
  if (config.databaseUrl) return openPostgres(config.databaseUrl, config.statementTimeoutMs ?? 0, config.dbPoolSize ?? 10);
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
  return {
    db,
    dialect: dialectHelpers('sqlite'),
    location: file,
    cancellable: (_signal, fn) => fn(),
    onConnectionLost: () => undefined,
    close: () => db.destroy(),
  };
}
