import type { Static } from '@sinclair/typebox';
import type { AppContext } from '../../context.js';
import { VERSION } from '../../version.js';
import { ping } from './health.repository.js';
import type { Health } from './health.schemas.js';

/**
 * What a client may rely on beyond the documented basics; clients probe for these, so a new client
 * still works against an older server. "experiments.run-info": experiments take `group` and
 * `runInfo` (an older server refuses them as unknown body fields). "experiments.files": the
 * per-run files and media routes (`/experiments/{id}/files/…`, `/media/…`).
 */
const FEATURES = ['metrics.f64-columns', 'experiments.run-info', 'experiments.files'];

/** The server's health after a round trip to its database (which throws when it is down). */
export async function health(ctx: AppContext): Promise<Static<typeof Health>> {
  await ping(ctx.db);
  return {
    status: 'ok',
    version: VERSION,
    database: ctx.dialect.name,
    dialect: ctx.dialect.name,
    features: FEATURES,
  };
}
