import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import readline from 'node:readline';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildApp } from './app.js';
import { clientConfigFile, clientServerUrl, readClientConfig, writeClientConfig } from './client-config.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import type { AppContext, Caller } from './context.js';
import { openDatabase, type Database } from './db/database.js';
import { migrate } from './db/migrate.js';
import { AppError } from './errors.js';
import { LOGIN_LIMITS, LoginLimiter } from './modules/auth/login-limiter.js';
import { createUser, listUsers, setPassword, userByEmail } from './modules/auth/auth.service.js';
import { KeyUsageTracker } from './modules/keys/key-usage.js';
import { createKeyForEmail, keyOwnerEmail, listKeys, revokeKey, type KeyDto } from './modules/keys/keys.service.js';
import { exportLines, type ExportFilter } from './modules/transfer/transfer.export.js';
import { checkExportLines, importLines } from './modules/transfer/transfer.import.js';
import { MlflowError } from './modules/mlflow/mlflow.errors.js';
import { importMlflow } from './modules/mlflow/mlflow.import.js';

const HELP = `Usage: tora <command> [options]

Commands:
  serve                                   start the server (default)
  migrate                                 apply database migrations and exit
  user create --email E --password P      create a user (with a "Default" workspace)
  user list                               list users
  user set-password --email E --password P
                                          set a user's password and end their sessions
  key create --email E --name N [--save [--force]] [--read-only] [--expires-days D]
                                          create an API key for a user; prints it once (--save:
                                          also into the Python client's config.json with this
                                          server's TORA_PUBLIC_URL or listening address, so local
                                          training scripts need no TORA_* variables; an existing
                                          config.json is replaced only with --force; --read-only:
                                          a key that may only read; --expires-days: refused after D days)
  key list --email E                      list a user's API keys (prefix, created, last used)
  key revoke --email E --id ID            revoke a key by id or by its prefix
  export [--workspace W] [--experiment ID]... [--out FILE]
                                          (W: a workspace's name, or its id from its settings page)
                                          write experiments with all their points as JSON lines
                                          (all experiments by default; stdout without --out)
  export --accounts [--out FILE]          the whole server: also users, workspaces, members,
                                          API keys (hashes) and metric directions
  import FILE --email E [--workspace W]   import an export as that user (an editor of W, default:
                                          their default workspace); running it again finishes an
                                          interrupted import without duplicating anything
  import FILE                             import an --accounts export into a server without users
  import-mlflow --from URL --email E [--experiment NAME]... [--token T]
                                          copy experiments, runs, params, tags, statuses, times and
                                          every metric point from a running MLflow tracking server
                                          into E's workspaces of the same names; rerun-safe

Configuration comes from the environment: TORA_PORT, TORA_HOST, TORA_DATA_DIR,
TORA_DATABASE_URL, TORA_ALLOW_SIGNUP, TORA_LOG_LEVEL, TORA_PUBLIC_URL, TORA_CONFIG_DIR
(see docs/configuration.md).`;

const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../web/build', import.meta.url));
// Written by the server build (scripts/build-client-wheel.mjs); from src/ (tsx) it is dist/client too.
const DEFAULT_CLIENT_DIR = fileURLToPath(new URL('../dist/client', import.meta.url));

async function openMigrated(config: Config): Promise<Database> {
  const database = openDatabase(config);
  await migrate(database.db, database.dialect);
  return database;
}

function cliContext(config: Config, database: Database): AppContext {
  return {
    config,
    db: database.db,
    dialect: database.dialect,
    clock: Date.now,
    newId: randomUUID,
    keyUsage: new KeyUsageTracker(database.db, 60_000, () => undefined),
    loginLimiter: new LoginLimiter(LOGIN_LIMITS),
  };
}

async function serve(config: Config): Promise<number> {
  const database = await openMigrated(config);
  const app = await buildApp(config, { database });
  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    void app
      .close()
      .then(() => database.close())
      .then(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    await app.close();
    await database.close();
    console.error(
      `tora: port ${config.port} on ${config.host} is already in use; stop what uses it or set TORA_PORT to another port`,
    );
    return 1;
  }
  app.log.info(
    { database: database.dialect.name, location: database.location },
    `Tora is ready at http://${config.host}:${config.port}`,
  );
  return 0;
}

/**
 * Why `key create --save` must not replace the client config that is there (naming whose key it
 * holds, when that key belongs to this server), or `null` when there is none.
 */
async function refuseOverwrite(config: Config, file: string): Promise<string | null> {
  const existing = readClientConfig(file);
  if (existing === null) return null;
  let holder = 'an unreadable config';
  if (existing.apiKey !== null) {
    const apiKey = existing.apiKey;
    const owner = await withDatabase(config, (ctx) => keyOwnerEmail(ctx, apiKey));
    const prefix = `${apiKey.slice(0, 12)}…`;
    holder = owner !== null ? `the API key ${prefix} of ${owner}` : `the API key ${prefix} (not a key of this server)`;
  }
  const server = existing.serverUrl !== null ? ` for ${existing.serverUrl}` : '';
  return `tora: ${file} already holds ${holder}${server}; no key was created. Pass --force to replace it, or set TORA_CONFIG_DIR to save elsewhere.`;
}

/** Runs `fn` on a migrated database that is closed afterwards, whatever happens. */
async function withDatabase<T>(config: Config, fn: (ctx: AppContext) => Promise<T>): Promise<T> {
  const database = await openMigrated(config);
  try {
    return await fn(cliContext(config, database));
  } finally {
    await database.close();
  }
}

function usage(message: string): number {
  console.error(message);
  return 2;
}

async function keysOf(ctx: AppContext, email: string): Promise<{ caller: Caller; keys: KeyDto[] }> {
  const user = await userByEmail(ctx, email);
  const caller: Caller = { userId: user.id, via: 'cli' };
  return { caller, keys: await listKeys(ctx, caller) };
}

/** Revokes one of a user's keys, named by its id or by the prefix lists show. */
async function revokeKeyOf(ctx: AppContext, email: string, wanted: string): Promise<KeyDto> {
  const { caller, keys } = await keysOf(ctx, email);
  const matches = keys.filter((k) => k.id === wanted || k.prefix === wanted);
  if (matches.length === 0) throw new AppError('KEY_NOT_FOUND', 404, `${email} has no key with id or prefix ${wanted}`);
  if (matches.length > 1) throw new AppError('KEY_NOT_FOUND', 404, `prefix ${wanted} names several keys; use the id`);
  await revokeKey(ctx, caller, matches[0]!.id);
  return matches[0]!;
}

function printTable(header: string[], rows: string[][]): void {
  if (rows.length === 0) {
    console.log('(none)');
    return;
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [header, ...rows])
    console.log(
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    );
}

/** The lines of a file, as they are read. */
function fileLines(file: string): AsyncIterable<string> {
  const rl = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity });
  // Iterate from the start: readline drops lines emitted before its iterator exists.
  const iterator = rl[Symbol.asyncIterator]();
  return { [Symbol.asyncIterator]: () => iterator };
}

async function writeLines(sink: NodeJS.WritableStream, lines: AsyncIterable<string>): Promise<void> {
  for await (const line of lines) if (!sink.write(`${line}\n`)) await once(sink, 'drain');
}

/** Streams an export to stdout, or to a file that appears only when complete. */
async function exportTo(ctx: AppContext, filter: ExportFilter, out: string | undefined): Promise<void> {
  const lines = exportLines(ctx, filter, (message) => console.error(message));
  if (out === undefined) return writeLines(process.stdout, lines);
  const partial = `${out}.partial`;
  const file = fs.createWriteStream(partial);
  try {
    await writeLines(file, lines);
    await new Promise<void>((resolve, reject) => file.end((err?: Error | null) => (err ? reject(err) : resolve())));
    fs.renameSync(partial, out);
  } catch (err) {
    file.destroy();
    fs.rmSync(partial, { force: true });
    throw err;
  }
  console.error(`wrote ${out}`);
}

/** Runs the `tora` command line; returns the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      email: { type: 'string' },
      password: { type: 'string' },
      name: { type: 'string' },
      workspace: { type: 'string' },
      id: { type: 'string' },
      experiment: { type: 'string', multiple: true },
      out: { type: 'string' },
      from: { type: 'string' },
      token: { type: 'string' },
      accounts: { type: 'boolean' },
      save: { type: 'boolean' },
      force: { type: 'boolean' },
      'read-only': { type: 'boolean' },
      'expires-days': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  let config: Config;
  try {
    config = loadConfig(process.env, { webDir: DEFAULT_WEB_DIR, clientDir: DEFAULT_CLIENT_DIR });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`tora: configuration error: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const [first = 'serve', ...rest] = positionals;
  const command = first === 'import' ? 'import' : [first, ...rest].join(' ');
  try {
    switch (command) {
      case 'serve':
        return await serve(config);
      case 'migrate': {
        const database = openDatabase(config);
        const applied = await migrate(database.db, database.dialect);
        console.log(applied.length ? `applied migrations: ${applied.join(', ')}` : 'database is up to date');
        await database.close();
        return 0;
      }
      case 'user create': {
        if (!values.email || !values.password) return usage('tora user create needs --email and --password');
        const { email, password } = values;
        const user = await withDatabase(config, (ctx) => createUser(ctx, { email, password }, 'cli'));
        console.log(`created user ${user.email} (${user.id})`);
        return 0;
      }
      case 'user list': {
        const users = await withDatabase(config, listUsers);
        printTable(
          ['email', 'id', 'created'],
          users.map((u) => [u.email, u.id, u.createdAt]),
        );
        return 0;
      }
      case 'user set-password': {
        if (!values.email || !values.password) return usage('tora user set-password needs --email and --password');
        const { email, password } = values;
        const ended = await withDatabase(config, (ctx) => setPassword(ctx, email, password));
        console.log(`password set for ${email.trim().toLowerCase()}; ${ended} session(s) ended (API keys unchanged)`);
        return 0;
      }
      case 'key create': {
        if (!values.email || !values.name) return usage('tora key create needs --email and --name');
        const { email, name } = values;
        const days = values['expires-days'];
        if (days !== undefined && !/^\d+$/.test(days)) return usage('--expires-days takes a whole number of days (1 to 3650)');
        const expiresInDays = days === undefined ? undefined : Number(days);
        if (expiresInDays !== undefined && (expiresInDays < 1 || expiresInDays > 3650)) {
          return usage('--expires-days takes a whole number of days (1 to 3650)');
        }
        const file = clientConfigFile(config);
        const refusal = values.save && !values.force ? await refuseOverwrite(config, file) : null;
        if (refusal !== null) {
          console.error(refusal);
          return 1;
        }
        const scope = values['read-only'] ? ('read' as const) : ('full' as const);
        const key = await withDatabase(config, (ctx) =>
          createKeyForEmail(ctx, email, { name, scope, ...(expiresInDays === undefined ? {} : { expiresInDays }) }),
        );
        console.log(key.key);
        console.error(`created API key "${key.name}" (${key.prefix}…) for ${email}; it is shown only once`);
        if (values.save) {
          const url = clientServerUrl(config);
          writeClientConfig(file, url, key.key);
          console.error(`saved it for the Python client in ${file} (server ${url})`);
        }
        return 0;
      }
      case 'key list': {
        if (!values.email) return usage('tora key list needs --email');
        const email = values.email;
        const { keys } = await withDatabase(config, (ctx) => keysOf(ctx, email));
        printTable(
          ['prefix', 'name', 'id', 'created', 'last used', 'scope', 'expires', 'state'],
          keys.map((k) => [
            k.prefix,
            k.name,
            k.id,
            k.createdAt,
            k.lastUsed ?? 'never',
            k.scope,
            k.expiresAt ?? 'never',
            k.revoked ? 'revoked' : 'active',
          ]),
        );
        return 0;
      }
      case 'key revoke': {
        if (!values.email || !values.id) return usage('tora key revoke needs --email and --id');
        const { email, id } = values;
        const revoked = await withDatabase(config, (ctx) => revokeKeyOf(ctx, email, id));
        console.log(`revoked key ${revoked.prefix}… ("${revoked.name}") of ${email.trim().toLowerCase()}`);
        return 0;
      }
      case 'export': {
        const filter = { workspace: values.workspace, experimentIds: values.experiment, accounts: values.accounts };
        await withDatabase(config, (ctx) => exportTo(ctx, filter, values.out));
        return 0;
      }
      case 'import': {
        const file = rest[0];
        if (!file || rest.length > 1) return usage('tora import needs a FILE (and --email, unless the export has accounts)');
        const target = { email: values.email, workspace: values.workspace };
        // Read twice: first to refuse a file with records this server cannot store, before any write.
        await checkExportLines(fileLines(file));
        const result = await withDatabase(config, (ctx) =>
          importLines(ctx, fileLines(file), target, (message) => console.error(message)),
        );
        console.log(
          `imported ${result.experiments} experiments (${result.resumed} already there) and ` +
            `${result.points.toLocaleString('en-US')} points (${result.duplicatePoints.toLocaleString('en-US')} already there)`,
        );
        return 0;
      }
      case 'import-mlflow': {
        if (!values.from || !values.email) return usage('tora import-mlflow needs --from URL and --email E');
        const { from, email } = values;
        const opts = { from, token: values.token, experiments: values.experiment ?? [] };
        const totals = await withDatabase(config, async (ctx) => {
          const caller: Caller = { userId: (await userByEmail(ctx, email)).id, via: 'cli' };
          return importMlflow(ctx, caller, opts, (line) => console.error(line));
        });
        console.log(
          `imported ${totals.experiments} experiments, ${totals.runs} runs (${totals.runs - totals.newRuns} found from an ` +
            `earlier import) and ${totals.points.toLocaleString('en-US')} points (already-imported points are not stored twice)`,
        );
        return 0;
      }
      default:
        console.error(`tora: unknown command "${command}"\n\n${HELP}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof AppError || err instanceof MlflowError) {
      console.error(`tora: ${err.message}`);
      return 1;
    }
    if (command === 'import-mlflow' && err instanceof Error) {
      // An unreachable or failing MLflow server: its message, not a stack trace.
      console.error(`tora: ${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ''}`);
      return 1;
    }
    throw err;
  }
}
