import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import type { AppContext } from './context.js';
import { openDatabase, type Database } from './db/database.js';
import { migrate } from './db/migrate.js';
import { AppError } from './errors.js';
import { LoginLimiter } from './modules/auth/login-limiter.js';
import { createUser } from './modules/auth/auth.service.js';
import { KeyUsageTracker } from './modules/keys/key-usage.js';
import { createKeyForEmail } from './modules/keys/keys.service.js';

const HELP = `Usage: tora <command> [options]

Commands:
  serve                                   start the server (default)
  migrate                                 apply database migrations and exit
  user create --email E --password P      create a user (with a "Default" workspace)
  key create --email E --name N           create an API key for a user; prints it once

Configuration comes from the environment: TORA_PORT, TORA_HOST, TORA_DATA_DIR,
TORA_DATABASE_URL, TORA_ALLOW_SIGNUP, TORA_LOG_LEVEL (see docs/configuration.md).`;

const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../web/build', import.meta.url));

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
    loginLimiter: new LoginLimiter(10, 50, 60_000),
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
  await app.listen({ port: config.port, host: config.host });
  app.log.info(
    { database: database.dialect.name, location: database.location },
    `Tora is ready at http://${config.host}:${config.port}`,
  );
  return 0;
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
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  let config: Config;
  try {
    config = loadConfig(process.env, { webDir: DEFAULT_WEB_DIR });
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`tora: configuration error: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const command = positionals.join(' ') || 'serve';
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
        if (!values.email || !values.password) {
          console.error('tora user create needs --email and --password');
          return 2;
        }
        const database = await openMigrated(config);
        const user = await createUser(cliContext(config, database), { email: values.email, password: values.password }, 'cli');
        console.log(`created user ${user.email} (${user.id})`);
        await database.close();
        return 0;
      }
      case 'key create': {
        if (!values.email || !values.name) {
          console.error('tora key create needs --email and --name');
          return 2;
        }
        const database = await openMigrated(config);
        const key = await createKeyForEmail(cliContext(config, database), values.email, values.name);
        console.log(key.key);
        console.error(`created API key "${key.name}" (${key.prefix}…) for ${values.email}; it is shown only once`);
        await database.close();
        return 0;
      }
      default:
        console.error(`tora: unknown command "${command}"\n\n${HELP}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof AppError) {
      console.error(`tora: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
