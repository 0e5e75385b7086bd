import { sql, type Kysely } from 'kysely';
import type { DB, ExperimentFilesTable, ExperimentMediaTable } from '../../db/schema.js';
import type { ExperimentIds } from '../metrics/metrics.repository.js';

/**
 * SQL of the index of runs' files (`experiment_files`) and of the images among them
 * (`experiment_media`), migration 015. Every query is scoped by experiment; the caller checked
 * access. A "prefix" is a plain string prefix of paths, compared by characters on both dialects
 * (`substr`, not LIKE: SQLite's LIKE ignores ASCII case and both treat `%`/`_` specially).
 */

type Db = Kysely<DB>;

function startsWith(prefix: string) {
  // substr counts characters (code points) on both SQLite and PostgreSQL.
  return sql<boolean>`substr(path, 1, ${[...prefix].length}) = ${prefix}`;
}

export async function upsertFile(db: Db, row: ExperimentFilesTable): Promise<void> {
  await db
    .insertInto('experiment_files')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['experiment_id', 'path']).doUpdateSet({
        size: row.size,
        sha256: row.sha256,
        content_type: row.content_type,
        updated_at: row.updated_at,
      }),
    )
    .execute();
}

export function findFile(db: Db, experimentId: string, path: string): Promise<ExperimentFilesTable | undefined> {
  return db
    .selectFrom('experiment_files')
    .selectAll()
    .where('experiment_id', '=', experimentId)
    .where('path', '=', path)
    .executeTakeFirst();
}

/** Files whose path starts with `prefix` and sorts after `after`, in path order, at most `limit`. */
export function listFiles(
  db: Db,
  q: { experimentId: string; prefix: string; after?: string; limit: number },
): Promise<ExperimentFilesTable[]> {
  let query = db.selectFrom('experiment_files').selectAll().where('experiment_id', '=', q.experimentId);
  if (q.prefix !== '') query = query.where(startsWith(q.prefix));
  if (q.after !== undefined) query = query.where('path', '>', q.after);
  return query.orderBy('path').limit(q.limit).execute();
}

/** Every file of these experiments, in (experiment, path) order: what an export carries. */
export function filesOf(db: Db, experimentIds: readonly string[]): Promise<ExperimentFilesTable[]> {
  if (experimentIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('experiment_files')
    .selectAll()
    .where('experiment_id', 'in', experimentIds)
    .orderBy('experiment_id')
    .orderBy('path')
    .execute();
}

/**
 * Removes the rows of the file at `path` and of every file under it (`path/…`), media included;
 * `path` '' removes all of the experiment's.
 */
export async function deleteFilesUnder(db: Db, experimentId: string, path: string): Promise<void> {
  for (const table of ['experiment_media', 'experiment_files'] as const) {
    let query = db.deleteFrom(table).where('experiment_id', '=', experimentId);
    if (path !== '') query = query.where((eb) => eb.or([eb('path', '=', path), startsWith(`${path}/`)]));
    await query.execute();
  }
}

/** The rows of every file of these experiments (the cascade delete of experiments calls it). */
export async function deleteFilesOf(db: Db, experimentIds: ExperimentIds): Promise<void> {
  await db.deleteFrom('experiment_media').where('experiment_id', 'in', experimentIds).execute();
  await db.deleteFrom('experiment_files').where('experiment_id', 'in', experimentIds).execute();
}

export async function upsertMedia(db: Db, row: ExperimentMediaTable): Promise<void> {
  await db
    .insertInto('experiment_media')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['experiment_id', 'path']).doUpdateSet({
        name: row.name,
        step: row.step,
        content_type: row.content_type,
        width: row.width,
        height: row.height,
        size: row.size,
        thumbnail_type: null,
      }),
    )
    .execute();
}

/** Whether the run's file at `path` still has the bytes whose SHA-256 is `sha256`. */
export async function fileHasBytes(db: Db, q: { experimentId: string; path: string; sha256: string }): Promise<boolean> {
  const row = await db
    .selectFrom('experiment_files')
    .select('path')
    .where('experiment_id', '=', q.experimentId)
    .where('path', '=', q.path)
    .where('sha256', '=', q.sha256)
    .executeTakeFirst();
  return row !== undefined;
}

/** Records the thumbnail made of the image at `path`, unless its file no longer has those bytes. */
export async function setThumbnail(
  db: Db,
  q: { experimentId: string; path: string; sha256: string; type: string },
): Promise<void> {
  await db
    .updateTable('experiment_media')
    .set({ thumbnail_type: q.type })
    .where('experiment_id', '=', q.experimentId)
    .where('path', '=', q.path)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('experiment_files')
          .select('experiment_files.path')
          .where('experiment_files.experiment_id', '=', q.experimentId)
          .where('experiment_files.path', '=', q.path)
          .where('experiment_files.sha256', '=', q.sha256),
      ),
    )
    .execute();
}

export async function deleteMediaAt(db: Db, experimentId: string, path: string): Promise<void> {
  await db.deleteFrom('experiment_media').where('experiment_id', '=', experimentId).where('path', '=', path).execute();
}

/** Which of these paths are files of the experiment. */
export async function existingPaths(db: Db, experimentId: string, paths: readonly string[]): Promise<Set<string>> {
  if (paths.length === 0) return new Set();
  const rows = await db
    .selectFrom('experiment_files')
    .select('path')
    .where('experiment_id', '=', experimentId)
    .where('path', 'in', paths)
    .execute();
  return new Set(rows.map((r) => r.path));
}

/** The image row of the run's file at `path`, if it is one. */
export function findMedia(db: Db, experimentId: string, path: string): Promise<ExperimentMediaTable | undefined> {
  return db
    .selectFrom('experiment_media')
    .selectAll()
    .where('experiment_id', '=', experimentId)
    .where('path', '=', path)
    .executeTakeFirst();
}

/** Images of key `name` at `step` (Tora's own door keeps one per key and step). */
export function mediaAt(db: Db, experimentId: string, name: string, step: number): Promise<ExperimentMediaTable[]> {
  return db
    .selectFrom('experiment_media')
    .selectAll()
    .where('experiment_id', '=', experimentId)
    .where('name', '=', name)
    .where('step', '=', step)
    .execute();
}

export async function highestMediaStep(db: Db, experimentId: string, name: string): Promise<number | null> {
  const row = await db
    .selectFrom('experiment_media')
    .select((eb) => eb.fn.max('step').as('step'))
    .where('experiment_id', '=', experimentId)
    .where('name', '=', name)
    .executeTakeFirst();
  return row?.step === undefined || row.step === null ? null : Number(row.step);
}

/** Images by key and step range, in (name, step, path) order, at most `limit`. */
export function listMedia(
  db: Db,
  q: { experimentId: string; name?: string; from?: number; to?: number; limit: number },
): Promise<ExperimentMediaTable[]> {
  let query = db.selectFrom('experiment_media').selectAll().where('experiment_id', '=', q.experimentId);
  if (q.name !== undefined) query = query.where('name', '=', q.name);
  if (q.from !== undefined) query = query.where('step', '>=', q.from);
  if (q.to !== undefined) query = query.where('step', '<=', q.to);
  return query.orderBy('name').orderBy('step').orderBy('path').limit(q.limit).execute();
}

/** Every image row of these experiments: what an export carries. */
export function mediaOf(db: Db, experimentIds: readonly string[]): Promise<ExperimentMediaTable[]> {
  if (experimentIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('experiment_media')
    .selectAll()
    .where('experiment_id', 'in', experimentIds)
    .orderBy('experiment_id')
    .orderBy('path')
    .execute();
}

/** Files named `name` (at the top or in any directory), in path order, at most `limit`. */
export async function filesNamed(db: Db, experimentId: string, name: string, limit: number): Promise<ExperimentFilesTable[]> {
  const rows = await db
    .selectFrom('experiment_files')
    .selectAll()
    .where('experiment_id', '=', experimentId)
    .where((eb) => eb.or([eb('path', '=', name), eb('path', 'like', `%/${name}`)]))
    .orderBy('path')
    .limit(limit)
    .execute();
  // LIKE ignores ASCII case on SQLite.
  return rows.filter((r) => r.path === name || r.path.endsWith(`/${name}`));
}

/** How many files lie under `prefix` and their bytes. */
export async function sizeUnder(db: Db, experimentId: string, prefix: string): Promise<{ files: number; bytes: number }> {
  const row = await db
    .selectFrom('experiment_files')
    .select((eb) => [eb.fn.countAll().as('files'), eb.fn.sum('size').as('bytes')])
    .where('experiment_id', '=', experimentId)
    .where(startsWith(prefix))
    .executeTakeFirst();
  return { files: Number(row?.files ?? 0), bytes: Number(row?.bytes ?? 0) };
}
