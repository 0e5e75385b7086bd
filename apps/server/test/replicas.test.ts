import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { migrate } from '../src/db/migrate.js';
import { DIALECTS, freshStorage, storageEnv } from './harness.js';

/**
 * Several servers on one database: what each does at start must be safe when all do it at once.
 * PostgreSQL only: several servers share a PostgreSQL database; SQLite is one server's file.
 */
describe.each(DIALECTS.filter((d) => d === 'postgres'))('replicas on %s', (dialect) => {
  it('three servers migrating an empty database at once: one migrates, the others wait, none fails', async () => {
    const storage = await freshStorage(dialect);
    const config = loadConfig(storageEnv(storage));
    const servers = [0, 1, 2].map(() => openDatabase(config));
    try {
      const applied = await Promise.all(servers.map((s) => migrate(s.db, s.dialect)));
      const migrated = applied.filter((versions) => versions.length > 0);
      expect(migrated).toHaveLength(1);
      expect(migrated[0]!.length).toBeGreaterThanOrEqual(14);
      // Each migration recorded once, and a later start finds nothing to do.
      const { rows } = await sql<{ version: number }>`select version from tora_migrations order by version`.execute(
        servers[0]!.db,
      );
      expect(rows.map((r) => r.version)).toEqual(migrated[0]);
      expect(await migrate(servers[1]!.db, servers[1]!.dialect)).toEqual([]);
    } finally {
      for (const s of servers) await s.close();
    }
  });
});

describe.each(DIALECTS.filter((d) => d === 'postgres'))('the connection pool on %s', (dialect) => {
  it('opens at most TORA_DB_POOL_SIZE connections however many queries wait', async () => {
    const storage = await freshStorage(dialect);
    const database = openDatabase(loadConfig({ ...storageEnv(storage), TORA_DB_POOL_SIZE: '2' }));
    try {
      const pids = await Promise.all(
        Array.from({ length: 8 }, async () => {
          const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid, pg_sleep(0.05)`.execute(database.db);
          return rows[0]!.pid;
        }),
      );
      expect(new Set(pids).size).toBe(2);
    } finally {
      await database.close();
    }
  });
});
