import { api, type CompareResult, type XAxis } from '$lib/api';
import { appendEnvelope, toEnvelope, type Envelope } from '$lib/chart/envelope';
import { LIMITS } from '$lib/generated/limits';
import type { SeriesReader } from './chart-series.svelte';

export interface CompareLine {
  id: string;
  envelope: Envelope;
}

/** One metric's curves from a compare response, in the order of the experiments asked. */
export function linesOf(result: CompareResult, metric: string): CompareLine[] {
  return result.experiments.flatMap((e) => {
    const m = e.metrics.find((x) => x.name === metric);
    return m ? [{ id: e.id, envelope: toEnvelope(m.series) }] : [];
  });
}

/** The x-axis a compare response was bucketed on (each series says so; absent means steps). */
function axisOf(result: CompareResult): XAxis {
  for (const e of result.experiments) for (const m of e.metrics) return m.series.x ?? 'step';
  return 'step';
}

/**
 * The curves behind one overlaid compare chart. Unzoomed it shows the page's compare read for
 * its axis (steps, or wall time); a zoom re-asks the compare endpoint for this metric and range,
 * on the same axis, at the plot's pixel width. A live append is one compare read for every run.
 */
export function compareReader(opts: {
  name: string;
  ids: () => string[];
  referenceId: () => string | null;
  /** The page's compare read (every metric, for one axis), once it has landed. */
  overview: () => CompareResult | null;
}): SeriesReader<CompareLine[]> {
  const { name, ids, referenceId } = opts;
  return {
    maxBudget: LIMITS.compareBudget,
    empty: [],
    async read({ budget, x, from, to }, signal) {
      const r = await api.compare({ ids: ids(), metrics: [name], budget, x, from, to, referenceId: referenceId() }, signal);
      return linesOf(r, name);
    },
    held: (lines) =>
      lines.length === 0
        ? null
        : {
            to: Math.max(...lines.map((l) => l.envelope.to)),
            buckets: Math.max(...lines.map((l) => l.envelope.xs.length)),
            width: Math.max(...lines.map((l) => l.envelope.bucketWidth), 1),
          },
    async append(lines, { from, to, budget }) {
      const r = await api.compare({ ids: ids(), metrics: [name], budget, from, to, referenceId: referenceId() });
      // A scratch lookup, local to this append.
      const added = new Map(linesOf(r, name).map((l) => [l.id, l.envelope]));
      const extended = lines.map((l) => {
        const more = added.get(l.id);
        return more && more.xs.length > 0 ? { id: l.id, envelope: appendEnvelope(l.envelope, more) } : l;
      });
      // Every line now covers the same range, so the next append starts after `to`.
      return extended.map((l) => ({ id: l.id, envelope: { ...l.envelope, to: Math.max(l.envelope.to, to) } }));
    },
    // The next poll retries.
    appendErrors: 'retry',
    overview: () => {
      const o = opts.overview();
      return o && { data: linesOf(o, name), x: axisOf(o), budget: o.budget };
    },
  };
}
