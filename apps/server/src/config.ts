import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  /** `null` selects the embedded SQLite database under `dataDir`. */
  readonly databaseUrl: string | null;
  /** PostgreSQL: the longest one statement may run (ms) before the database cancels it; 0: no bound. */
  readonly statementTimeoutMs: number;
  /** PostgreSQL: the most connections this server opens (its pool's size). */
  readonly dbPoolSize: number;
  readonly allowSignup: boolean;
  readonly logLevel: LogLevel;
  /** Directory holding the built web app; `null` serves the API only. */
  readonly webDir: string | null;
  /** Directory holding the built Python client wheel served at /api/client (set by the CLI, no variable). */
  readonly clientDir: string | null;
  readonly sessionTtlHours: number;
  readonly crashAfterSeconds: number;
  /** The largest file (bytes) one upload may store in the blob store: a run's file or image, or an MLflow artifact. */
  readonly maxArtifactBytes: number;
  /** Artifact bytes one workspace may hold in all; `null`: no quota. */
  readonly maxWorkspaceBytes: number | null;
  /** Public origin(s) (`scheme://host[:port]`, normalized) allowed for cookie-authenticated writes besides the request's own. */
  readonly trustedOrigins: readonly string[];
  /** The server's public origin (`https://tora.example.com`, no path), or `null` when not configured. */
  readonly publicUrl: string | null;
  /**
   * Host names (lowercase) a request may name in its Host header besides loopback names and IP
   * literals; `.example.com` also admits subdomains, `*` admits any host.
   */
  readonly allowedHosts: readonly string[];
  /**
   * Which reverse proxies are believed for X-Forwarded-For/-Proto/-Host: `false` none, a number of
   * hops (the last N addresses of the chain are proxies), or a list of proxy addresses/CIDR ranges.
   */
  readonly trustProxy: TrustProxy;
  /** Where `tora key create --save` writes the Python client's config.json (its TORA_CONFIG_DIR). */
  readonly clientConfigDir: string;
  /**
   * How new metric blocks are written: `coded` (compressed per column, the default) or `packed` (three
   * float64 columns, the layout servers before the coded format read). Both are always readable.
   */
  readonly blockFormat: BlockFormat;
  /** Where file bytes live: the directory under `dataDir` (the default) or an S3-compatible bucket. */
  readonly artifactStore: ArtifactStoreConfig;
  readonly ai: AiConfig;
}

export type ArtifactStoreConfig = { readonly kind: 'directory' } | S3StoreConfig;

export interface S3StoreConfig {
  readonly kind: 's3';
  readonly bucket: string;
  /** Key prefix inside the bucket, without leading or trailing `/` ('' for the bucket's root). */
  readonly prefix: string;
  /** An S3-compatible server's URL (`http://127.0.0.1:8333`); `null`: AWS's own endpoint for the region. */
  readonly endpoint: string | null;
  readonly region: string;
  readonly forcePathStyle: boolean;
  /** From the standard AWS variables; `null`: the SDK's own chain (profile files, instance or container roles). */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string } | null;
}

export type BlockFormat = 'coded' | 'packed';
const BLOCK_FORMATS: readonly BlockFormat[] = ['coded', 'packed'];

export type TrustProxy = false | number | readonly string[];

export type AiProviderName = 'builtin' | 'anthropic' | 'openai';

export interface AiConfig {
  readonly provider: AiProviderName;
  readonly baseUrl: string;
  readonly model: string;
  /** Sent only to the provider; never logged or returned. */
  readonly apiKey: string | null;
  readonly timeoutMs: number;
  /** Provider calls (HTTP requests, retries included) allowed per user per sliding hour. */
  readonly callsPerHour: number;
}

const AI_DEFAULTS: Record<Exclude<AiProviderName, 'builtin'>, { baseUrl: string; model: string }> = {
  anthropic: { baseUrl: 'https://api.anthropic.com', model: 'claude-sonnet-4-5' },
  openai: { baseUrl: 'https://api.openai.com/v1', model: 'gpt-4o-mini' },
};

function aiConfig(env: Env): AiConfig {
  // Which analyzer answers /api/ai/analysis: the built-in one (no network) or an LLM provider.
  const provider = (env.TORA_AI_PROVIDER || 'builtin') as AiProviderName;
  if (!['builtin', 'anthropic', 'openai'].includes(provider)) {
    throw new ConfigError(`TORA_AI_PROVIDER must be builtin, anthropic or openai, got "${env.TORA_AI_PROVIDER}"`);
  }
  const defaults = provider === 'builtin' ? { baseUrl: '', model: '' } : AI_DEFAULTS[provider];
  // Where the provider lives: a vLLM, Ollama or LM Studio server speaks the OpenAI form at http://host:port/v1.
  const baseUrl = (env.TORA_AI_BASE_URL || defaults.baseUrl).replace(/\/+$/, '');
  if (provider !== 'builtin' && !/^https?:\/\/[^\s]+$/.test(baseUrl)) {
    throw new ConfigError(`TORA_AI_BASE_URL must be an http(s) URL, got "${env.TORA_AI_BASE_URL}"`);
  }
  // Model name as the provider knows it.
  const model = env.TORA_AI_MODEL || defaults.model;
  // The provider's key; local OpenAI-compatible servers often need none.
  const apiKey = env.TORA_AI_API_KEY || null;
  if (provider === 'anthropic' && apiKey === null) throw new ConfigError('TORA_AI_PROVIDER=anthropic needs TORA_AI_API_KEY');
  // How long to wait for the provider before falling back to the built-in analysis.
  const timeoutMs = intVar(env, 'TORA_AI_TIMEOUT_MS', 60_000, 100, 600_000);
  // Each provider call is paid: a per-user hourly budget, past which analyses are refused with 429.
  const callsPerHour = intVar(env, 'TORA_AI_CALLS_PER_HOUR', 30, 1, 1_000_000);
  return { provider, baseUrl, model, apiKey, timeoutMs, callsPerHour };
}

export class ConfigError extends Error {}

const BUCKET_PATTERN = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function artifactStoreConfig(env: Env): ArtifactStoreConfig {
  // `s3://bucket/prefix` keeps files in an S3-compatible bucket (several replicas share it); empty: TORA_DATA_DIR/artifacts.
  const raw = env.TORA_ARTIFACT_STORE || '';
  if (raw === '') return { kind: 'directory' };
  const match = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(raw);
  const bucket = match?.[1] ?? '';
  const prefix = (match?.[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (
    !match ||
    !BUCKET_PATTERN.test(bucket) ||
    prefix.split('/').some((s) => s === '.' || s === '..' || (s === '' && prefix !== ''))
  ) {
    throw new ConfigError(`TORA_ARTIFACT_STORE must be empty or s3://bucket[/prefix], got "${raw}"`);
  }
  // An S3-compatible server (SeaweedFS, Ceph, R2, …); empty: AWS S3 itself.
  const endpoint = env.TORA_S3_ENDPOINT ? httpUrlVar('TORA_S3_ENDPOINT', env.TORA_S3_ENDPOINT) : null;
  // AWS needs the bucket's region; most S3-compatible servers take any.
  const region = env.TORA_S3_REGION || env.AWS_REGION || 'us-east-1';
  // Most self-hosted servers serve buckets at endpoint/bucket, not at bucket.endpoint (AWS's virtual hosts).
  const forcePathStyle = boolVar(env, 'TORA_S3_FORCE_PATH_STYLE', endpoint !== null);
  // The standard AWS variables; absent, the SDK looks further (profile files, instance and container roles).
  const accessKeyId = env.AWS_ACCESS_KEY_ID || '';
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY || '';
  if ((accessKeyId === '') !== (secretAccessKey === '')) {
    throw new ConfigError('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together');
  }
  const sessionToken = env.AWS_SESSION_TOKEN || undefined;
  const credentials = accessKeyId === '' ? null : Object.freeze({ accessKeyId, secretAccessKey, sessionToken });
  return Object.freeze({ kind: 's3', bucket, prefix, endpoint, region, forcePathStyle, credentials });
}

function httpUrlVar(name: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL, got "${raw}"`);
  }
  if (!['http:', 'https:'].includes(url.protocol) || url.username || url.password || url.search || url.hash) {
    throw new ConfigError(`${name} must be an http(s) URL without credentials, query or fragment, got "${raw}"`);
  }
  return raw.replace(/\/+$/, '');
}

function originVar(name: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL such as https://tora.example.com, got "${raw}"`);
  }
  if (!['http:', 'https:'].includes(url.protocol) || url.username || url.password || url.search || url.hash) {
    throw new ConfigError(`${name} must be an http(s) URL such as https://tora.example.com, got "${raw}"`);
  }
  if (url.pathname !== '/') throw new ConfigError(`${name} must not have a path (Tora is served at /), got "${raw}"`);
  return url.origin;
}

function listVar(env: Env, name: string): string[] {
  return (env[name] || '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

const HOST_PATTERN = /^(\*|\.?[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*|\[[0-9a-f:.]+\])$/;

function allowedHosts(env: Env, publicUrl: string | null): string[] {
  const hosts = listVar(env, 'TORA_ALLOWED_HOSTS').map((h) => h.toLowerCase());
  for (const host of hosts) {
    if (!HOST_PATTERN.test(host)) {
      throw new ConfigError(
        `TORA_ALLOWED_HOSTS takes host names without scheme or port (tora.example.com, .example.com or *), got "${host}"`,
      );
    }
  }
  if (publicUrl !== null) hosts.push(new URL(publicUrl).hostname);
  return hosts;
}

function trustProxyVar(env: Env): TrustProxy {
  const raw = (env.TORA_TRUST_PROXY || '').trim();
  const lowered = raw.toLowerCase();
  if (['', '0', 'false', 'no', 'off'].includes(lowered)) return false;
  // `true` keeps its old spelling but now means exactly one proxy in front, never "believe everything".
  if (['1', 'true', 'yes', 'on'].includes(lowered)) return 1;
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw);
    if (hops > 10) throw new ConfigError(`TORA_TRUST_PROXY hop count must be between 0 and 10, got "${raw}"`);
    return hops;
  }
  const addresses = raw.split(',').map((s) => s.trim());
  for (const entry of addresses) {
    const [address = '', bits, ...rest] = entry.split('/');
    const family = net.isIP(address);
    const maxBits = family === 6 ? 128 : 32;
    const badBits = bits !== undefined && (!/^\d+$/.test(bits) || Number(bits) > maxBits);
    if (family === 0 || badBits || rest.length > 0) {
      throw new ConfigError(
        `TORA_TRUST_PROXY must be false, true (one proxy), a hop count, or proxy addresses/CIDR ranges (10.0.0.1,10.1.0.0/16), got "${entry}"`,
      );
    }
  }
  return Object.freeze(addresses);
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

type Env = Readonly<Record<string, string | undefined>>;

function intVar(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got "${raw}"`);
  }
  return value;
}

/**
 * A directory, `~/.tora` by default. A leading `~` is expanded here: env-file loaders (`node
 * --env-file`, systemd, docker) pass it on literally, which made a directory named `~`.
 */
function dirVar(env: Env, name: string): string {
  const raw = env[name] || '~/.tora';
  const expanded = raw === '~' || raw.startsWith('~/') ? path.join(os.homedir(), raw.slice(1)) : raw;
  return path.resolve(expanded);
}

function boolVar(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const lowered = raw.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(lowered)) return true;
  if (['0', 'false', 'no', 'off'].includes(lowered)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

/**
 * Reads and validates Tora's configuration once; the only reader of `process.env`.
 *
 * @example
 *   const config = loadConfig(process.env); // throws ConfigError with a readable message
 */
export function loadConfig(env: Env = process.env, defaults: { webDir?: string | null; clientDir?: string | null } = {}): Config {
  // Where the SQLite file (and anything else on disk) lives.
  const dataDir = dirVar(env, 'TORA_DATA_DIR');
  // postgres://… switches storage to PostgreSQL; empty keeps the embedded SQLite.
  const databaseUrl = env.TORA_DATABASE_URL || null;
  if (databaseUrl !== null && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError(`TORA_DATABASE_URL must start with postgres:// or postgresql://, got "${databaseUrl}"`);
  }
  // Log verbosity of the structured (pino) logs. "warn" by default: a terminal running Tora shows
  // its one start line and errors, not two JSON lines per request ("info" adds those).
  const logLevel = (env.TORA_LOG_LEVEL || 'warn') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`TORA_LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${env.TORA_LOG_LEVEL}"`);
  }
  // The address users reach Tora at (behind a proxy: its public https URL); admits its host and origin.
  const publicUrl = env.TORA_PUBLIC_URL ? originVar('TORA_PUBLIC_URL', env.TORA_PUBLIC_URL) : null;
  // `packed` while a fleet still runs replicas older than the coded block format (they cannot read it).
  const blockFormat = (env.TORA_BLOCK_FORMAT || 'coded') as BlockFormat;
  if (!BLOCK_FORMATS.includes(blockFormat)) {
    throw new ConfigError(`TORA_BLOCK_FORMAT must be one of ${BLOCK_FORMATS.join(', ')}, got "${env.TORA_BLOCK_FORMAT}"`);
  }
  const config: Config = {
    // TCP port the API and web app listen on.
    port: intVar(env, 'TORA_PORT', 8080, 0, 65535),
    // Interface to bind; loopback by default so a fresh install is not exposed.
    host: env.TORA_HOST || '127.0.0.1',
    dataDir,
    databaseUrl,
    // PostgreSQL only: one statement past this many ms is cancelled (503), so no request holds a backend for long.
    statementTimeoutMs: intVar(env, 'TORA_DB_STATEMENT_TIMEOUT_MS', 30_000, 0, 3_600_000),
    // PostgreSQL only: connections per server; replicas × this must stay under the database's max_connections.
    dbPoolSize: intVar(env, 'TORA_DB_POOL_SIZE', 10, 1, 1000),
    // After the first account, whether anyone may sign up (else an admin adds users by CLI).
    allowSignup: boolVar(env, 'TORA_ALLOW_SIGNUP', false),
    logLevel,
    // Where the built web app is; defaults to apps/web/build next to the server.
    webDir: env.TORA_WEB_DIR ? path.resolve(env.TORA_WEB_DIR) : (defaults.webDir ?? null),
    clientDir: defaults.clientDir ?? null,
    // How long a browser session lasts without logging in again.
    sessionTtlHours: intVar(env, 'TORA_SESSION_TTL_HOURS', 24 * 14, 1, 24 * 365),
    // A running experiment silent for this long is reported as crashed.
    crashAfterSeconds: intVar(env, 'TORA_CRASH_AFTER_SECONDS', 900, 10, 30 * 24 * 3600),
    // Per-file cap of uploads (run files, media, MLflow artifacts, checkpoints): a full disk is everyone's outage.
    maxArtifactBytes: intVar(env, 'TORA_MAX_ARTIFACT_BYTES', 5 * 1024 ** 3, 1, 2 ** 50),
    // Optional cap on all artifact files of one workspace, so one team cannot fill a shared disk (0: none).
    maxWorkspaceBytes: intVar(env, 'TORA_MAX_WORKSPACE_BYTES', 0, 0, 2 ** 50) || null,
    // Behind a TLS-terminating proxy: which proxies to believe for the client IP and https (never on an open port).
    trustProxy: trustProxyVar(env),
    publicUrl,
    // Host names (comma-separated) the server answers to besides loopback and IPs: a DNS-rebinding guard.
    allowedHosts: Object.freeze(allowedHosts(env, publicUrl)),
    // The Python client's config directory (same variable and default as the client's).
    clientConfigDir: dirVar(env, 'TORA_CONFIG_DIR'),
    blockFormat,
    artifactStore: artifactStoreConfig(env),
    // Extra origins (comma-separated) allowed to make cookie-authenticated writes, e.g. behind a proxy.
    trustedOrigins: Object.freeze(listVar(env, 'TORA_TRUSTED_ORIGINS').map((o) => originVar('TORA_TRUSTED_ORIGINS', o))),
    ai: Object.freeze(aiConfig(env)),
  };
  return Object.freeze(config);
}
