import type { Kysely } from 'kysely';
import type { Config } from './config.js';
import type { DialectHelpers } from './db/dialect.js';
import type { DB } from './db/schema.js';
import type { KeyUsageTracker } from './modules/keys/key-usage.js';
import type { LoginLimiter } from './modules/auth/login-limiter.js';

/** What every service needs, built once per app: no module-level state on the server. */
export interface AppContext {
  readonly config: Config;
  readonly db: Kysely<DB>;
  readonly dialect: DialectHelpers;
  readonly clock: () => number;
  readonly newId: () => string;
  readonly keyUsage: KeyUsageTracker;
  readonly loginLimiter: LoginLimiter;
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
