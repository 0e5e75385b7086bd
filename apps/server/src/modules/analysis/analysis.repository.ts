import type { Kysely } from 'kysely';
import type { DB } from '../../db/schema.js';
import { directionsFreshness } from '../compare/directions.repository.js';
import { workspaceActivity } from '../experiments/experiments.repository.js';
import { seriesFreshness } from '../metrics/metrics.repository.js';

/** What changes whenever new data arrives: the experiments' series, the workspace's runs and its metric directions. */
export async function freshness(db: Kysely<DB>, workspaceId: string, experimentIds: readonly string[]): Promise<string> {
  const series = await seriesFreshness(db, experimentIds);
  const runs = await workspaceActivity(db, workspaceId);
  const directions = await directionsFreshness(db, workspaceId);
  return JSON.stringify([series, runs, directions], (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
}
