import fs from 'node:fs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import type { AppContext } from '../src/context.js';
import { createContext } from '../src/create-context.js';
import { openDatabase, type Database } from '../src/db/database.js';
import { migrate } from '../src/db/migrate.js';
import { runHousekeeping } from '../src/modules/housekeeping/housekeeping.js';
import { DIALECTS, freshStorage, storageEnv, type TestStorage } from './harness.js';

const HOUR = 3600_000;

/** A migrated database with one user, and a context whose clock the test moves. */
function useHousekeeping(dialect: (typeof DIALECTS)[number]) {
  const state = { now: 100 * 24 * HOUR } as { now: number; storage: TestStorage; database: Database; ctx: AppContext };
  beforeAll(async () => {
    state.storage = await freshStorage(dialect);
    const config = loadConfig(storageEnv(state.storage));
    state.database = openDatabase(config);
    await migrate(state.database.db, state.database.dialect);
    state.ctx = createContext(config, state.database, { clock: () => state.now });
    await state.database.db
      .insertInto('users')
      .values({ id: 'u1', email: 'keeper@example.com', password_hash: 'x', default_workspace_id: null, created_at: 0 })
      .execute();
  });
  afterAll(async () => {
    await state.database.close();
    fs.rmSync(state.storage.dataDir, { recursive: true, force: true });
  });
  return {
    state,
    sessionIds: async () =>
      (await state.database.db.selectFrom('sessions').select('id').orderBy('id').execute()).map((r) => r.id),
    failureKeys: async () =>
      (await state.database.db.selectFrom('login_failures').select('key').orderBy('key').execute()).map((r) => r.key),
  };
}

/** The database's periodic clean-up, done by one server of a deployment at a time. */
describe.each(DIALECTS)('housekeeping on %s', (dialect) => {
  const { state, sessionIds, failureKeys } = useHousekeeping(dialect);

  it('removes expired sessions and failed-login counters past their window, keeping the live ones', async () => {
    const now = (state.now += HOUR);
    await state.database.db
      .insertInto('sessions')
      .values([
        { id: 'expired', user_id: 'u1', created_at: now - 48 * HOUR, expires_at: now - 1 },
        { id: 'live', user_id: 'u1', created_at: now - HOUR, expires_at: now + HOUR },
      ])
      .execute();
    await state.database.db
      .insertInto('login_failures')
      .values([
        { key: 'account:old', window_start: now - 2 * HOUR, count: 3 },
        { key: 'account:recent', window_start: now - 60_000, count: 1 },
      ])
      .execute();
    expect(await runHousekeeping(state.ctx)).toBe(true);
    expect(await sessionIds()).toEqual(['live']);
    expect(await failureKeys()).toEqual(['account:recent']);
  });
});

describe.each(DIALECTS.filter((d) => d === 'postgres'))('housekeeping across replicas on %s', (dialect) => {
  const { state, sessionIds } = useHousekeeping(dialect);

  it('is skipped, not waited for, while another server holds the job', async () => {
    const now = (state.now += HOUR);
    const db = state.database.db;
    await db
      .insertInto('sessions')
      .values({ id: 'expired-2', user_id: 'u1', created_at: now - 48 * HOUR, expires_at: now - 1 })
      .execute();
    // Another replica mid-housekeeping: its transaction holds the job's advisory lock.
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    let locked: () => void = () => undefined;
    const isLocked = new Promise<void>((r) => (locked = r));
    const other = db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(7203115)`.execute(trx);
      locked();
      await held;
    });
    await isLocked;
    const started = Date.now();
    expect(await runHousekeeping(state.ctx)).toBe(false);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await sessionIds()).toContain('expired-2');
    release();
    await other;
    expect(await runHousekeeping(state.ctx)).toBe(true);
    expect(await sessionIds()).not.toContain('expired-2');
  });
});
