import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { openDatabase, type Database } from '../src/db/database.js';
import { migrate } from '../src/db/migrate.js';
import { LOGIN_LIMITS, LoginLimiter } from '../src/modules/auth/login-limiter.js';
import { DIALECTS, freshStorage, storageEnv, type TestStorage } from './harness.js';

const MIN = 60_000;

/** The failed-login throttle's rules, on its real table: what one server counts, every server sees. */
describe.each(DIALECTS)('LoginLimiter on %s', (dialect) => {
  let storage: TestStorage;
  let database: Database;
  let limiter: LoginLimiter;
  let n = 0;
  // Every test its own e-mails and addresses: the table is shared by the file.
  const unique = () => `t${n++}-${Math.random().toString(36).slice(2)}`;
  const rows = async () =>
    Number(
      (
        await database.db
          .selectFrom('login_failures')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  beforeAll(async () => {
    storage = await freshStorage(dialect);
    database = openDatabase(loadConfig(storageEnv(storage)));
    await migrate(database.db, database.dialect);
    limiter = new LoginLimiter(database.db, LOGIN_LIMITS);
  });
  afterAll(async () => {
    await database.close();
    fs.rmSync(storage.dataDir, { recursive: true, force: true });
  });

  it('ten failures for one account from one address block that pair only', async () => {
    const t = unique();
    const attacker = limiter.keysFor(`owner-${t}@example.com`, '203.0.113.1');
    for (let i = 0; i < 10; i++) await limiter.recordFailure(attacker, 0);
    expect(await limiter.retryAfter(attacker, 1000)).toBe(15 * 60 - 1);
    expect(await limiter.retryAfter(limiter.keysFor(`owner-${t}@example.com`, '198.51.100.2'), 1000)).toBe(0);
    expect(await limiter.retryAfter(limiter.keysFor(`other-${t}@example.com`, '203.0.113.1'), 1000)).toBe(0);
    expect(await limiter.retryAfter(attacker, 15 * MIN)).toBe(0);
  });

  it('fifty failures from one address block it for every account', async () => {
    const t = unique();
    const address = `10.9.${n}.1`;
    for (let i = 0; i < 50; i++) await limiter.recordFailure(limiter.keysFor(`u${i}-${t}@example.com`, address), 0);
    expect(await limiter.retryAfter(limiter.keysFor(`fresh-${t}@example.com`, address), 0)).toBeGreaterThan(0);
    expect(await limiter.retryAfter(limiter.keysFor(`fresh-${t}@example.com`, `10.9.${n}.2`), 0)).toBe(0);
  });

  it('an account has a slower ceiling over all addresses: 100 failures an hour', async () => {
    const owner = `owner-${unique()}@example.com`;
    for (let i = 0; i < 100; i++) {
      const keys = limiter.keysFor(owner, `203.0.114.${i}`);
      expect(await limiter.retryAfter(keys, i * 1000), `attempt ${i}`).toBe(0);
      await limiter.recordFailure(keys, i * 1000);
    }
    const elsewhere = limiter.keysFor(owner, '198.51.100.3');
    expect(await limiter.retryAfter(elsewhere, 100_000)).toBe(60 * 60 - 100);
    expect(await limiter.retryAfter(elsewhere, 60 * MIN)).toBe(0);
  });

  it('a window that has passed starts again at one', async () => {
    const keys = limiter.keysFor(`again-${unique()}@example.com`, '203.0.113.77');
    for (let i = 0; i < 10; i++) await limiter.recordFailure(keys, 0);
    expect(await limiter.retryAfter(keys, 0)).toBeGreaterThan(0);
    await limiter.recordFailure(keys, 15 * MIN);
    expect(await limiter.retryAfter(keys, 15 * MIN)).toBe(0);
    for (let i = 0; i < 8; i++) await limiter.recordFailure(keys, 15 * MIN);
    expect(await limiter.retryAfter(keys, 15 * MIN), 'nine in the new window').toBe(0);
    await limiter.recordFailure(keys, 15 * MIN);
    expect(await limiter.retryAfter(keys, 15 * MIN), 'ten in the new window').toBeGreaterThan(0);
  });

  it("a success clears only that address's count for the account", async () => {
    const email = `reset-${unique()}@example.com`;
    const keys = limiter.keysFor(email, '203.0.113.88');
    for (let i = 0; i < 10; i++) await limiter.recordFailure(keys, 0);
    await limiter.reset(keys[1]!);
    expect(await limiter.retryAfter(keys, 0)).toBe(0);
  });

  it('two servers on one database share the counts, and failures at once are all counted', async () => {
    const other = new LoginLimiter(database.db, LOGIN_LIMITS);
    const keys = limiter.keysFor(`shared-${unique()}@example.com`, '203.0.113.99');
    // Nine failures, split across two "servers" and made concurrently.
    await Promise.all(Array.from({ length: 9 }, (_, i) => (i % 2 ? limiter : other).recordFailure(keys, 1000)));
    expect(await other.retryAfter(keys, 1000)).toBe(0);
    await limiter.recordFailure(keys, 1000);
    expect(await other.retryAfter(keys, 1000)).toBe(15 * 60);
  });

  it('keeps only counters whose window has not passed: the table does not grow without bound', async () => {
    const t = unique();
    const later = 10 * 24 * 60 * MIN;
    for (let i = 0; i < 200; i++)
      await limiter.recordFailure(limiter.keysFor(`flood${i}-${t}@example.com`, `10.7.0.${i}`), later);
    expect(await rows()).toBeGreaterThanOrEqual(600);
    // One failure an hour later prunes every counter of the flood.
    await limiter.recordFailure(limiter.keysFor(`last-${t}@example.com`, '10.7.1.1'), later + 60 * MIN);
    expect(await rows()).toBe(3);
  });

  it('stores no e-mail or address in the clear', async () => {
    const email = `secret-${unique()}@example.com`;
    await limiter.recordFailure(limiter.keysFor(email, '192.0.2.55'), 2 * 24 * 60 * MIN);
    const keys = (await database.db.selectFrom('login_failures').select('key').execute()).map((r) => r.key);
    expect(keys.some((k) => k.includes(email) || k.includes('192.0.2.55'))).toBe(false);
    expect(keys.length).toBeGreaterThan(0);
  });
});
