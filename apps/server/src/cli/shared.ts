import type { Config } from '../config.js';
import type { AppContext } from '../context.js';
import { createContext } from '../create-context.js';
import { openDatabase, type Database } from '../db/database.js';
import { migrate } from '../db/migrate.js';

/** Where a command writes and what it reads its configuration from: the process's, or a test's. */
export interface CliIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The options every command shares one parser for (`parseArgs`' values). */
interface CliValues {
  email?: string;
  password?: string;
  name?: string;
  workspace?: string;
  id?: string;
  experiment?: string[];
  out?: string;
  from?: string;
  token?: string;
  accounts?: boolean;
  'no-files'?: boolean;
  artifacts?: boolean;
  save?: boolean;
  force?: boolean;
  'read-only'?: boolean;
  'expires-days'?: string;
}

/** One command: its parsed options and positionals after the command words; returns the exit code. */
export type Command = (config: Config, values: CliValues, rest: string[], io: CliIo) => Promise<number>;

/** Writes one line. */
export function say(stream: NodeJS.WritableStream, text: string): void {
  stream.write(`${text}\n`);
}

/** A usage mistake: the message on stderr, exit code 2. */
export function usage(io: CliIo, message: string): number {
  say(io.stderr, message);
  return 2;
}

export async function openMigrated(config: Config): Promise<Database> {
  const database = openDatabase(config);
  await migrate(database.db, database.dialect);
  return database;
}

/** Runs `fn` on a migrated database that is closed afterwards, whatever happens. */
export async function withDatabase<T>(config: Config, fn: (ctx: AppContext) => Promise<T>): Promise<T> {
  const database = await openMigrated(config);
  const ctx = createContext(config, database);
  try {
    return await fn(ctx);
  } finally {
    // Images a command stored (tora import) get their thumbnails from the server when listed.
    await ctx.thumbnails.close();
    ctx.blobs.close();
    await database.close();
  }
}
