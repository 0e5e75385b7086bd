import { api, ApiError } from '$lib/api';
import { appendEnvelope, emptyEnvelope, toEnvelope, type Envelope } from '$lib/chart/envelope';
import { LIMITS } from '$lib/generated/limits';
import type { SeriesReader } from './chart-series.svelte';

/** One experiment's metric, and the reference's curve of it over the same range when there is one to draw. */
export interface MetricData {
  envelope: Envelope;
  reference: Envelope | null;
}

/**
 * Reads one metric of one experiment through `/metrics/series`. With a reference experiment,
 * the reference's curve of the same metric is read alongside at the same range and budget (step
 * axis only: wall times of two runs do not line up).
 */
export function metricReader(experimentId: string, name: string, referenceId: () => string | null): SeriesReader<MetricData> {
  return {
    maxBudget: LIMITS.seriesBudget,
    empty: { envelope: emptyEnvelope(), reference: null },
    async read({ budget, x, from, to }, signal) {
      const q = { name, budget, from, to, x };
      const refId = x === 'step' ? referenceId() : null;
      const [s, ref] = await Promise.all([
        api.series(experimentId, q, signal),
        refId ? api.series(refId, q, signal).catch(missing) : Promise.resolve(null),
      ]);
      return { envelope: toEnvelope(s), reference: ref && ref.pointCount > 0 ? toEnvelope(ref) : null };
    },
    held: ({ envelope: e }) => (e.xs.length === 0 ? null : { to: e.to, buckets: e.xs.length, width: e.bucketWidth }),
    async append(data, { from, to, budget }) {
      const s = await api.series(experimentId, { name, budget, from, to });
      return { ...data, envelope: appendEnvelope(data.envelope, toEnvelope(s)) };
    },
    appendErrors: 'show',
  };
}

/** A reference without this metric simply has no curve to overlay. */
function missing(e: unknown): null {
  if (e instanceof ApiError && e.status === 404) return null;
  throw e;
}
