import { randomUUID } from 'node:crypto';
import type { Config } from './config.js';
import type { AppContext } from './context.js';
import type { Database } from './db/database.js';
import { blobStoreFor } from './modules/artifacts/artifacts.blob-store.js';
import { LOGIN_LIMITS, LoginLimiter } from './modules/auth/login-limiter.js';
import { Thumbnailer } from './modules/files/thumbnails.js';
import { KeyUsageTracker } from './modules/keys/key-usage.js';

/**
 * Builds the context of one app or one CLI command from the modules that implement its interfaces.
 * The key-usage tracker is not started here: the app starts it (and stops it on close); a CLI
 * command never records key use.
 *
 * @example
 *   const ctx = createContext(config, database, { onKeyUsageError: (err) => log.error({ err }) });
 */
export function createContext(
  config: Config,
  database: Database,
  deps: {
    clock?: () => number;
    newId?: () => string;
    onKeyUsageError?: (err: unknown) => void;
    onThumbnailError?: (err: unknown) => void;
  } = {},
): AppContext {
  const blobs = blobStoreFor(config);
  return {
    config,
    db: database.db,
    dialect: database.dialect,
    clock: deps.clock ?? Date.now,
    newId: deps.newId ?? randomUUID,
    blobs,
    // "Last used" times are written at most every 30 s.
    keyUsage: new KeyUsageTracker(database.db, 30_000, deps.onKeyUsageError ?? (() => undefined)),
    loginLimiter: new LoginLimiter(database.db, LOGIN_LIMITS),
    thumbnails: new Thumbnailer(database.db, blobs, deps.onThumbnailError ?? (() => undefined)),
  };
}
