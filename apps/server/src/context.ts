import type { Kysely } from 'kysely';
import type { Config } from './config.js';
import type { DialectHelpers } from './db/dialect.js';
import type { DB } from './db/schema.js';
import type { BlobStore } from './lib/blob-store.js';

/*
 * The context depends on interfaces only, never on a feature module: the modules implement them
 * (keys/key-usage.ts, auth/login-limiter.ts, artifacts/artifacts.store.ts, files/thumbnails.ts) and `createContext`
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

/**
 * Throttles failed logins: the counters one attempt counts against, and the wait they impose. The
 * counts are shared by every server of a deployment (auth/login-limiter.ts keeps them in the database).
 */
export interface LoginThrottle {
  keysFor(email: string, address: string): string[];
  /** Seconds to wait before another attempt; 0 when none is needed. */
  retryAfter(keys: readonly string[], now: number): Promise<number>;
  recordFailure(keys: readonly string[], now: number): Promise<void>;
  reset(key: string): Promise<void>;
}

/** An uploaded image whose thumbnail is to be made. */
export interface ThumbnailJob {
  experimentId: string;
  /** The image among the run's files. */
  path: string;
  /** Its bytes' and its thumbnail's keys in the blob store. */
  source: readonly string[];
  target: readonly string[];
}

/** Makes uploaded images' thumbnails in the background (files/thumbnails.ts). */
export interface ThumbnailQueue {
  /** Queues an image; never waits and never throws. */
  enqueue(job: ThumbnailJob): void;
  /** Drops what is queued and waits for the job in hand: the app is closing its database. */
  close(): Promise<void>;
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
  /** Makes uploaded images' thumbnails in the background (the app closes it before its database). */
  readonly thumbnails: ThumbnailQueue;
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
