import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import { inject } from 'vitest';
import { buildApp } from '../src/app.js';
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
  close(): Promise<void>;
}

/** A fresh directory under this run's temporary root (removed when the run ends). */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(inject('tmpRoot'), prefix));
}

/** A fresh, empty database for one test file: a temp SQLite dir, or a new PostgreSQL database. */
export async function freshStorage(dialect: DialectName): Promise<{ dataDir: string; databaseUrl: string | null }> {
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

export async function startTestServer(
  dialect: DialectName,
  env: Record<string, string> = {},
  deps: { clock?: () => number; clientDir?: string } = {},
): Promise<TestServer> {
  const storage = await freshStorage(dialect);
  const config = loadConfig(
    {
      TORA_DATA_DIR: storage.dataDir,
      TORA_DATABASE_URL: storage.databaseUrl ?? '',
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
  return {
    app,
    database,
    config,
    dataDir: storage.dataDir,
    databaseUrl: storage.databaseUrl,
    async close() {
      await app.close();
      await database.close();
      fs.rmSync(storage.dataDir, { recursive: true, force: true });
    },
  };
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
