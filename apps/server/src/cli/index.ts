/**
 * The `tora` command line: `runCli(argv, io)` parses, loads the configuration from `io.env`,
 * runs one command writing to `io.stdout`/`io.stderr` and returns its exit code. It never exits
 * the process, so tests run it in-process; `main.ts` hands it the process's streams.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { AppError } from '../errors.js';
import { MlflowError } from '../modules/mlflow/mlflow.errors.js';
import { keyCreate, keyList, keyRevoke, migrate, userCreate, userList, userSetPassword } from './admin.js';
import { serve } from './serve.js';
import { say, type CliIo, type Command } from './shared.js';
import { exportCommand, importCommand, importMlflowCommand } from './transfer.js';

export type { CliIo } from './shared.js';

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
  export [--workspace W] [--experiment ID]... [--out FILE] [--no-files]
                                          (W: a workspace's name, or its id from its settings page)
                                          write experiments with all their points and files as JSON
                                          lines (all experiments by default; stdout without --out;
                                          --no-files: without the runs' files)
  export --accounts [--out FILE]          the whole server: also users, workspaces, members,
                                          API keys (hashes) and metric directions
  import FILE --email E [--workspace W]   import an export as that user (an editor of W, default:
                                          their default workspace); running it again finishes an
                                          interrupted import without duplicating anything
  import FILE                             import an --accounts export into a server without users
  import-mlflow --from URL --email E [--experiment NAME]... [--token T] [--artifacts]
                                          copy experiments, runs, params, tags, statuses, times and
                                          every metric point from a running MLflow tracking server
                                          into E's workspaces of the same names; rerun-safe
                                          (--artifacts: also every run's artifact files)

Configuration comes from the environment: TORA_PORT, TORA_HOST, TORA_DATA_DIR,
TORA_DATABASE_URL, TORA_ALLOW_SIGNUP, TORA_LOG_LEVEL, TORA_PUBLIC_URL, TORA_CONFIG_DIR
(see docs/configuration.md).`;

const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../../web/build', import.meta.url));
// Written by the server build (scripts/build-client-wheel.mjs); from src/ (tsx) it is dist/client too.
const DEFAULT_CLIENT_DIR = fileURLToPath(new URL('../../dist/client', import.meta.url));

const COMMANDS: Readonly<Record<string, Command>> = {
  serve: (config, _values, _rest, io) => serve(config, io),
  migrate,
  'user create': userCreate,
  'user list': userList,
  'user set-password': userSetPassword,
  'key create': keyCreate,
  'key list': keyList,
  'key revoke': keyRevoke,
  export: exportCommand,
  import: importCommand,
  'import-mlflow': importMlflowCommand,
};

const OPTIONS = {
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
  'no-files': { type: 'boolean' },
  artifacts: { type: 'boolean' },
  save: { type: 'boolean' },
  force: { type: 'boolean' },
  'read-only': { type: 'boolean' },
  'expires-days': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * Runs the `tora` command line; resolves with the exit code (`serve`: once it has shut down).
 *
 * @example
 *   const code = await runCli(['user', 'list'], { stdout: process.stdout, stderr: process.stderr, env: process.env });
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  if (values.help) {
    say(io.stdout, HELP);
    return 0;
  }
  let config: Config;
  try {
    config = loadConfig(io.env, { webDir: DEFAULT_WEB_DIR, clientDir: DEFAULT_CLIENT_DIR });
  } catch (err) {
    if (err instanceof ConfigError) {
      say(io.stderr, `tora: configuration error: ${err.message}`);
      return 2;
    }
    throw err;
  }
  const [first = 'serve', ...rest] = positionals;
  const name = first === 'import' ? 'import' : [first, ...rest].join(' ');
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    say(io.stderr, `tora: unknown command "${name}"\n\n${HELP}`);
    return 2;
  }
  try {
    return await command(config, values, rest, io);
  } catch (err) {
    if (err instanceof AppError || err instanceof MlflowError) {
      say(io.stderr, `tora: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
