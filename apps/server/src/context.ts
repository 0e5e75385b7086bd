import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Config } from './config.js';
import type { Database } from './db/database.js';
import type { DialectHelpers } from './db/dialect.js';
import type { DB } from './db/schema.js';
import { blobStoreFor } from './modules/artifacts/artifacts.blob-store.js';
import type { BlobStore } from './modules/artifacts/artifacts.store.js';
import { KeyUsageTracker } from './modules/keys/key-usage.js';
import { LOGIN_LIMITS, LoginLimiter } from './modules/auth/login-limiter.js';

/** What every service needs, built once per app: no module-level state on the server. */
export interface AppContext {
  readonly config: Config;
  readonly db: Kysely<DB>;
  readonly dialect: DialectHelpers;
  readonly clock: () => number;
  readonly newId: () => string;
  /** Where file bytes live (runs' files, media, logged models): reached only through this interface. */
  readonly blobs: BlobStore;
  readonly keyUsage: KeyUsageTracker;
  readonly loginLimiter: LoginLimiter;
}

/**
 * Builds the context of one app or one CLI command. The key-usage tracker is not started here:
 * the app starts it (and stops it on close); a CLI command never records key use.
 *
 * @example
 *   const ctx = createContext(config, database, { onKeyUsageError: (err) => log.error({ err }) });
 */
export function createContext(
  config: Config,
  database: Database,
  deps: { clock?: () => number; newId?: () => string; onKeyUsageError?: (err: unknown) => void } = {},
): AppContext {
  return {
    config,
    db: database.db,
    dialect: database.dialect,
    clock: deps.clock ?? Date.now,
    newId: deps.newId ?? randomUUID,
    blobs: blobStoreFor(config),
    // "Last used" times are written at most every 30 s.
    keyUsage: new KeyUsageTracker(database.db, 30_000, deps.onKeyUsageError ?? (() => undefined)),
    loginLimiter: new LoginLimiter(LOGIN_LIMITS),
  };
}

/** Who is calling: a user, through a browser session or an API key. */
export interface Caller {
  readonly userId: string;
  readonly via: 'session' | 'api_key' | 'cli';
  readonly sessionId?: string;
  readonly keyId?: string;
  /** A read-only API key: only reads (GET, and the POST routes marked `readsOnly`). */
  readonly readOnly?: boolean;
}
