import type { AppContext } from '../../context.js';
import type { ExperimentStatus } from '../../lib/schemas.js';
import type { Experiment } from './experiment.js';

/*
 * The one "crashed" rule: a running experiment silent for longer than TORA_CRASH_AFTER_SECONDS
 * reads "crashed" (MLflow: KILLED). The filter SQL applies the same rule from `crashedBefore`.
 */

/** Running experiments last active before this time (epoch ms) read as crashed. */
export function crashedBefore(ctx: Pick<AppContext, 'clock' | 'config'>): number {
  return ctx.clock() - ctx.config.crashAfterSeconds * 1000;
}

/** The status an experiment shows: as stored, except a silent running one is crashed. */
export function effectiveStatus(
  ctx: Pick<AppContext, 'clock' | 'config'>,
  e: Pick<Experiment, 'status' | 'lastActivityAt'>,
): ExperimentStatus {
  if (e.status === 'running' && e.lastActivityAt < crashedBefore(ctx)) return 'crashed';
  return e.status;
}
