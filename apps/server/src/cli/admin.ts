/** The account commands: `migrate`, `user …` and `key …`. */
import { clientConfigFile, clientServerUrl, readClientConfig, writeClientConfig } from '../client-config.js';
import type { Config } from '../config.js';
import type { AppContext, Caller } from '../context.js';
import { openDatabase } from '../db/database.js';
import { migrate as applyMigrations } from '../db/migrate.js';
import { AppError } from '../errors.js';
import { createUser, listUsers, setPassword, userByEmail } from '../modules/auth/auth.service.js';
import { createKeyForEmail, keyOwnerEmail, listKeys, revokeKey, type KeyDto } from '../modules/keys/keys.service.js';
import { say, usage, withDatabase, type CliIo, type Command } from './shared.js';

function printTable(io: CliIo, header: string[], rows: string[][]): void {
  if (rows.length === 0) {
    say(io.stdout, '(none)');
    return;
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [header, ...rows])
    say(
      io.stdout,
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    );
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

export const migrate: Command = async (config, _values, _rest, io) => {
  const database = openDatabase(config);
  const applied = await applyMigrations(database.db, database.dialect);
  say(io.stdout, applied.length ? `applied migrations: ${applied.join(', ')}` : 'database is up to date');
  await database.close();
  return 0;
};

export const userCreate: Command = async (config, values, _rest, io) => {
  if (!values.email || !values.password) return usage(io, 'tora user create needs --email and --password');
  const { email, password } = values;
  const user = await withDatabase(config, (ctx) => createUser(ctx, { email, password }, 'cli'));
  say(io.stdout, `created user ${user.email} (${user.id})`);
  return 0;
};

export const userList: Command = async (config, _values, _rest, io) => {
  const users = await withDatabase(config, listUsers);
  printTable(
    io,
    ['email', 'id', 'created'],
    users.map((u) => [u.email, u.id, u.createdAt]),
  );
  return 0;
};

export const userSetPassword: Command = async (config, values, _rest, io) => {
  if (!values.email || !values.password) return usage(io, 'tora user set-password needs --email and --password');
  const { email, password } = values;
  const ended = await withDatabase(config, (ctx) => setPassword(ctx, email, password));
  say(io.stdout, `password set for ${email.trim().toLowerCase()}; ${ended} session(s) ended (API keys unchanged)`);
  return 0;
};

export const keyCreate: Command = async (config, values, _rest, io) => {
  if (!values.email || !values.name) return usage(io, 'tora key create needs --email and --name');
  const { email, name } = values;
  const days = values['expires-days'];
  const badDays = '--expires-days takes a whole number of days (1 to 3650)';
  if (days !== undefined && !/^\d+$/.test(days)) return usage(io, badDays);
  const expiresInDays = days === undefined ? undefined : Number(days);
  if (expiresInDays !== undefined && (expiresInDays < 1 || expiresInDays > 3650)) return usage(io, badDays);
  const file = clientConfigFile(config);
  const refusal = values.save && !values.force ? await refuseOverwrite(config, file) : null;
  if (refusal !== null) {
    say(io.stderr, refusal);
    return 1;
  }
  const scope = values['read-only'] ? ('read' as const) : ('full' as const);
  const key = await withDatabase(config, (ctx) =>
    createKeyForEmail(ctx, email, { name, scope, ...(expiresInDays === undefined ? {} : { expiresInDays }) }),
  );
  say(io.stdout, key.key);
  say(io.stderr, `created API key "${key.name}" (${key.prefix}…) for ${email}; it is shown only once`);
  if (values.save) {
    const url = clientServerUrl(config);
    writeClientConfig(file, url, key.key);
    say(io.stderr, `saved it for the Python client in ${file} (server ${url})`);
  }
  return 0;
};

export const keyList: Command = async (config, values, _rest, io) => {
  if (!values.email) return usage(io, 'tora key list needs --email');
  const email = values.email;
  const { keys } = await withDatabase(config, (ctx) => keysOf(ctx, email));
  printTable(
    io,
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
};

export const keyRevoke: Command = async (config, values, _rest, io) => {
  if (!values.email || !values.id) return usage(io, 'tora key revoke needs --email and --id');
  const { email, id } = values;
  const revoked = await withDatabase(config, (ctx) => revokeKeyOf(ctx, email, id));
  say(io.stdout, `revoked key ${revoked.prefix}… ("${revoked.name}") of ${email.trim().toLowerCase()}`);
  return 0;
};
