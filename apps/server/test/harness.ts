import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, inject } from 'vitest';
import { buildApp } from '../src/app.js';
import { runCli } from '../src/cli/index.js';
import { loadConfig, type Config } from '../src/config.js';
import { openDatabase, type Database } from '../src/db/database.js';
import type { DialectName } from '../src/db/dialect.js';
import { migrate } from '../src/db/migrate.js';

/**
 * Every storage and API test runs once per dialect. `DIALECTS=sqlite` (or `postgres`) narrows a
 * quick local run to one; CI and `scripts/test.sh` leave it unset and run both.
 */
export const DIALECTS: readonly DialectName[] = selectedDialects(process.env.DIALECTS);

function selectedDialects(value: string | undefined): DialectName[] {
  const all: DialectName[] = ['sqlite', 'postgres'];
  if (!value) return all;
  const chosen = value.split(',').map((name) => name.trim());
  const unknown = chosen.filter((name) => !all.includes(name as DialectName));
  if (unknown.length > 0) throw new Error(`DIALECTS: unknown dialect ${unknown.join(', ')} (use sqlite, postgres)`);
  return all.filter((name) => chosen.includes(name));
}

export interface TestServer {
  app: FastifyInstance;
  database: Database;
  config: Config;
  dataDir: string;
  databaseUrl: string | null;
  /** `http://127.0.0.1:PORT` when started with `listen` (for requests `inject` cannot make), else null. */
  origin: string | null;
  close(): Promise<void>;
}

/** How a test server differs from the default one besides its environment. */
export interface TestServerDeps {
  clock?: () => number;
  clientDir?: string;
  storage?: TestStorage;
  /** Also listen on a free port of 127.0.0.1: raw HTTP (paths as written, cut uploads, the connection's address). */
  listen?: boolean;
}

/** A fresh directory under this run's temporary root (removed when the run ends). */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(inject('tmpRoot'), prefix));
}

/** Where a test server keeps its data: a temp dir, and on PostgreSQL the URL of its own database. */
export interface TestStorage {
  dataDir: string;
  databaseUrl: string | null;
}

/** A fresh, empty database for one test file: a temp SQLite dir, or a new PostgreSQL database. */
export async function freshStorage(dialect: DialectName): Promise<TestStorage> {
  const dataDir = tempDir('data-');
  if (dialect === 'sqlite') return { dataDir, databaseUrl: null };
  const adminUrl = inject('pgUrl');
  const name = `tora_${randomUUID().replace(/-/g, '')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { dataDir, databaseUrl: url.toString() };
}

/**
 * The environment that keeps a server's files in this run's S3-compatible server (SeaweedFS, started
 * by the global setup), under a fresh key prefix of its bucket: no two tests share a file.
 */
export function s3Env(): Record<string, string> {
  const s3 = inject('s3');
  return {
    TORA_ARTIFACT_STORE: `s3://${s3.bucket}/${randomUUID()}`,
    TORA_S3_ENDPOINT: s3.endpoint,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
  };
}

/** The environment that points the server (or the CLI) at a storage. */
export function storageEnv(storage: TestStorage): Record<string, string> {
  return { TORA_DATA_DIR: storage.dataDir, TORA_DATABASE_URL: storage.databaseUrl ?? '' };
}

/**
 * A migrated app on fresh storage, or on `deps.storage` (one the test prepared, e.g. with the
 * CLI): either way `close()` removes its data directory.
 */
export async function startTestServer(
  dialect: DialectName,
  env: Record<string, string> = {},
  deps: TestServerDeps = {},
): Promise<TestServer> {
  const storage = deps.storage ?? (await freshStorage(dialect));
  const config = loadConfig(
    {
      ...storageEnv(storage),
      TORA_ALLOW_SIGNUP: 'true',
      TORA_LOG_LEVEL: 'silent',
      ...env,
    },
    { clientDir: deps.clientDir ?? null },
  );
  const database = openDatabase(config);
  await migrate(database.db, database.dialect);
  const app = await buildApp(config, { database, logger: false, clock: deps.clock });
  await app.ready();
  const origin = deps.listen ? new URL(await app.listen({ port: 0, host: '127.0.0.1' })).origin : null;
  return {
    app,
    database,
    config,
    dataDir: storage.dataDir,
    databaseUrl: storage.databaseUrl,
    origin,
    async close() {
      await app.close();
      await database.close();
      fs.rmSync(storage.dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The server of the enclosing `describe`: started before its tests, closed after them (storage
 * removed). The returned object reads the running server, so a file declares it in one line:
 *
 * @example
 *   describe.each(DIALECTS)('experiments on %s', (dialect) => {
 *     const server = useTestServer(dialect);
 *     const alice = useUser(server);
 *     it('…', async () => expect((await call(server.app, alice, 'GET', '/api/experiments')).statusCode).toBe(200));
 *   });
 */
export function useTestServer(
  dialect: DialectName,
  env: Record<string, string> | (() => Record<string, string>) = {},
  deps: Omit<TestServerDeps, 'storage' | 'clientDir'> & { clientDir?: string | (() => string) } = {},
): TestServer {
  let current: TestServer | undefined;
  beforeAll(async () => {
    const clientDir = typeof deps.clientDir === 'function' ? deps.clientDir() : deps.clientDir;
    current = await startTestServer(dialect, typeof env === 'function' ? env() : env, { ...deps, clientDir });
  });
  afterAll(async () => {
    await current?.close();
    current = undefined;
  });
  const running = (): TestServer => {
    if (!current) throw new Error('the test server runs only inside the tests and hooks of its describe');
    return current;
  };
  return {
    get app() {
      return running().app;
    },
    get database() {
      return running().database;
    },
    get config() {
      return running().config;
    },
    get dataDir() {
      return running().dataDir;
    },
    get databaseUrl() {
      return running().databaseUrl;
    },
    get origin() {
      return running().origin;
    },
    close: () => running().close(),
  };
}

/** A user signed up on `server` before the tests of the enclosing `describe` (after its server started). */
export function useUser(server: TestServer): TestUser {
  let user: TestUser | undefined;
  beforeAll(async () => {
    user = await signUp(server.app);
  });
  const signedUp = (): TestUser => {
    if (!user) throw new Error('the test user exists only inside the tests and hooks of its describe');
    return user;
  };
  return {
    get id() {
      return signedUp().id;
    },
    get email() {
      return signedUp().email;
    },
    get cookie() {
      return signedUp().cookie;
    },
    get key() {
      return signedUp().key;
    },
    get keyId() {
      return signedUp().keyId;
    },
    get defaultWorkspaceId() {
      return signedUp().defaultWorkspaceId;
    },
  };
}

/** What a `tora` command printed, and its exit code. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/**
 * Runs `tora …` in this process (`runCli` with `env` over this process's environment, output
 * captured). Like a child process that exits non-zero, it rejects with `code`, `stdout` and
 * `stderr` on a non-zero exit code.
 */
export async function tora(env: Record<string, string>, ...args: string[]): Promise<CliRun> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runCli(args, { stdout, stderr, env: { ...process.env, TORA_LOG_LEVEL: 'silent', ...env } });
  const run = { code, stdout: stdout.text, stderr: stderr.text };
  if (code !== 0) throw Object.assign(new Error(`tora ${args.join(' ')} exited with ${code}: ${run.stderr}`), run);
  return run;
}

export const ORIGIN = 'http://localhost';

/** A user signed up through the API, with a session cookie and an API key. */
export interface TestUser {
  id: string;
  email: string;
  cookie: string;
  key: string;
  keyId: string;
  defaultWorkspaceId: string;
}

let counter = 0;

export async function signUp(
  app: FastifyInstance,
  email = `user${++counter}-${randomUUID().slice(0, 8)}@example.com`,
): Promise<TestUser> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/auth/signup',
    payload: { email, password: 'correct horse battery' },
  });
  if (res.statusCode !== 201) throw new Error(`signup failed: ${res.statusCode} ${res.body}`);
  const setCookie = res.headers['set-cookie'];
  const raw = Array.isArray(setCookie) ? setCookie[0] : setCookie;
  const cookie = (raw ?? '').split(';')[0] ?? '';
  const user = res.json<{ user: { id: string; defaultWorkspaceId: string } }>().user;
  const keyRes = await app.inject({
    method: 'POST',
    url: '/api/keys',
    headers: { cookie, origin: ORIGIN },
    payload: { name: 'test key' },
  });
  if (keyRes.statusCode !== 201) throw new Error(`key failed: ${keyRes.statusCode} ${keyRes.body}`);
  const key = keyRes.json<{ key: string; id: string }>();
  return { id: user.id, email, cookie, key: key.key, keyId: key.id, defaultWorkspaceId: user.defaultWorkspaceId };
}

/**
 * A fresh API key for an existing user of `server` (signed up here, so with the test password), by
 * logging in: for a server a user was moved to (export/import), where `signUp`'s key does not exist.
 */
export async function keyFor(server: TestServer, email: string): Promise<string> {
  const login = await server.app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { email, password: 'correct horse battery' },
  });
  if (login.statusCode !== 200) throw new Error(`login failed: ${login.statusCode} ${login.body}`);
  const cookie = String(login.headers['set-cookie']).split(';')[0]!;
  const res = await server.app.inject({
    method: 'POST',
    url: '/api/keys',
    headers: { cookie, origin: ORIGIN },
    payload: { name: 'k' },
  });
  if (res.statusCode !== 201) throw new Error(`key failed: ${res.statusCode} ${res.body}`);
  return res.json<{ key: string }>().key;
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** Calls the API with a user's API key (or anonymously with `null`). */
export function call(
  app: FastifyInstance,
  user: TestUser | null | { key: string },
  method: Method,
  url: string,
  payload?: unknown,
): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = {};
  if (user) headers['x-api-key'] = user.key;
  return app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
}

export async function createExperiment(
  app: FastifyInstance,
  user: TestUser,
  body: Record<string, unknown> = {},
): Promise<string> {
  const res = await call(app, user, 'POST', '/api/experiments', { name: 'exp', ...body });
  if (res.statusCode !== 201) throw new Error(`create experiment failed: ${res.statusCode} ${res.body}`);
  return res.json<{ experiment: { id: string } }>().experiment.id;
}

export async function createWorkspace(app: FastifyInstance, user: TestUser, name = 'ws'): Promise<string> {
  const res = await call(app, user, 'POST', '/api/workspaces', { name });
  if (res.statusCode !== 201) throw new Error(`create workspace failed: ${res.statusCode} ${res.body}`);
  return res.json<{ id: string }>().id;
}

export async function addMember(
  app: FastifyInstance,
  owner: TestUser,
  workspaceId: string,
  member: TestUser,
  role: string,
): Promise<void> {
  const res = await call(app, owner, 'POST', `/api/workspaces/${workspaceId}/members`, { email: member.email, role });
  if (res.statusCode !== 201) throw new Error(`add member failed: ${res.statusCode} ${res.body}`);
}

/** Asserts the one error shape and returns the code. */
export function errorCode(res: LightMyRequestResponse): string {
  const body = res.json<{ error?: { code?: unknown; message?: unknown } }>();
  if (typeof body.error?.code !== 'string' || typeof body.error.message !== 'string') {
    throw new Error(`not the error shape: ${res.statusCode} ${res.body}`);
  }
  return body.error.code;
}
