import type { Kysely } from 'kysely';
import type { Config } from './config.js';
import type { DialectHelpers } from './db/dialect.js';
import type { DB } from './db/schema.js';
import type { BlobStore } from './lib/blob-store.js';

/*
 * The context depends on interfaces only, never on a feature module: the modules implement them
 * (keys/key-usage.ts, auth/login-limiter.ts, artifacts/artifacts.store.ts) and `createContext`
 * (create-context.ts) puts them together.
 */

/** Records API keys' "last used" times in memory and writes them now and then. */
export interface KeyUsage {
  /** Begins the periodic writes (the app does; a CLI command never records key use). */
  start(): void;
  /** Records a use of the key at `now`. */
  touch(keyId: string, now: number): void;
  /** The use recorded but not yet written, if any. */
  lastUse(keyId: string): number | undefined;
  /** Stops the writes after writing what is pending. */
  stop(): Promise<void>;
}

/** Throttles failed logins: the counters one attempt counts against, and the wait they impose. */
export interface LoginThrottle {
  keysFor(email: string, address: string): string[];
  /** Seconds to wait before another attempt; 0 when none is needed. */
  retryAfter(keys: readonly string[], now: number): number;
  recordFailure(keys: readonly string[], now: number): void;
  reset(key: string): void;
}

/** What every service needs, built once per app: no module-level state on the server. */
export interface AppContext {
  readonly config: Config;
  readonly db: Kysely<DB>;
  readonly dialect: DialectHelpers;
  readonly clock: () => number;
  readonly newId: () => string;
  /** Where file bytes live (runs' files, media, logged models): reached only through this interface. */
  readonly blobs: BlobStore;
  readonly keyUsage: KeyUsage;
  readonly loginLimiter: LoginThrottle;
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
