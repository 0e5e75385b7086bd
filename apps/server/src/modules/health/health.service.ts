import type { Static } from '@sinclair/typebox';
import type { AppContext } from '../../context.js';
import { AppError } from '../../errors.js';
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

/** What did not answer a health check, and why (for the log; the caller sees only which). */
export interface HealthFailure {
  database: unknown;
  fileStore: unknown;
}

/**
 * The server's health after a round trip to its database and one to its file store, side by side:
 * a 503 naming whichever did not answer (`onFailure` gets the errors, for the log).
 */
export async function health(
  ctx: AppContext,
  onFailure: (failure: HealthFailure) => void = () => undefined,
): Promise<Static<typeof Health>> {
  const [database, fileStore] = await Promise.all([failureOf(() => ping(ctx.db)), failureOf(() => ctx.blobs.check())]);
  if (database !== null || fileStore !== null) {
    onFailure({ database, fileStore });
    const down = [database !== null ? 'the database' : null, fileStore !== null ? 'the file store' : null].filter(Boolean);
    const code = database !== null ? 'DATABASE_UNAVAILABLE' : 'FILE_STORE_UNAVAILABLE';
    throw new AppError(code, 503, `Unhealthy: ${down.join(' and ')} did not answer`, {
      database: database === null ? 'ok' : 'unavailable',
      fileStore: fileStore === null ? 'ok' : 'unavailable',
    });
  }
  return {
    status: 'ok',
    version: VERSION,
    database: ctx.dialect.name,
    dialect: ctx.dialect.name,
    fileStore: ctx.config.artifactStore.kind,
    features: FEATURES,
  };
}

async function failureOf(check: () => Promise<void>): Promise<unknown> {
  try {
    await check();
    return null;
  } catch (err) {
    return err ?? new Error('failed');
  }
}
