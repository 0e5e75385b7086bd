import { api, num, type Band } from '$lib/api';
import { emptyEnvelope, type Envelope } from '$lib/chart/envelope';
import { LIMITS } from '$lib/generated/limits';
import type { SeriesReader } from './chart-series.svelte';
import { linesOf, type CompareLine } from './compare-reader';

/** What the shaded band around each group's mean spans. */
export type Spread = 'std' | 'stderr' | 'minmax';

/**
 * A group of runs drawn as one mean line with a band; `n` is the most runs any bucket averaged;
 * `runs` its runs' own curves (read only when they are drawn faint behind the band).
 */
export interface GroupBand {
  id: string;
  label: string;
  n: number;
  envelope: Envelope;
  runs: (CompareLine & { name: string })[];
}

/**
 * A band read as a chart envelope: x at each bucket's centre, the line (and its drawn points) at
 * the mean across runs,
 * the band at mean ± std, ± stderr or min–max, `counts` the runs averaged, and NaN markers where
 * some run logged NaN (never averaged in).
 */
export function bandEnvelope(b: Band, spread: Spread): Envelope {
  const f = (v: number | string | null | undefined): number | null => {
    const x = num(v);
    return Number.isFinite(x) ? x : null;
  };
  const e = emptyEnvelope();
  e.from = b.from;
  e.to = b.to;
  e.bucketWidth = b.bucketWidth;
  b.bucket.forEach((k, i) => {
    const x = b.bucketStart + (k + 0.5) * b.bucketWidth;
    const mean = f(b.mean[i]);
    const s = f((spread === 'stderr' ? b.stderr : b.std)[i]);
    const lo = spread === 'minmax' ? f(b.min[i]) : mean !== null && s !== null ? mean - s : null;
    const hi = spread === 'minmax' ? f(b.max[i]) : mean !== null && s !== null ? mean + s : null;
    e.xs.push(x);
    e.lines.push(mean);
    // The drawn line is the mean itself, one point per bucket (M4 applies to one run's points, not
    // to a mean across runs): point i is bucket i.
    e.pointXs.push(x);
    e.points.push(mean);
    e.pointBuckets.push(e.xs.length - 1);
    e.mins.push(lo);
    e.maxs.push(hi);
    e.firstSteps.push(x);
    e.lastSteps.push(x);
    e.counts.push(b.n[i]!);
    if (b.nanRuns[i]! > 0) e.nanSteps.push(x);
  });
  e.pointCount = e.counts.reduce((a, c) => a + c, 0);
  return e;
}

/**
 * One band read per group (of 2 or more runs) for one metric and, with `runs`, one compare read of
 * every banded run's own curve at the same budget and range; not live (a band is for finished sweeps).
 */
export function bandReader(opts: {
  name: string;
  groups: () => { id: string; label: string; ids: string[] }[];
  spread: () => Spread;
  runs?: () => boolean;
}): SeriesReader<GroupBand[]> {
  return {
    maxBudget: LIMITS.bandBudget,
    empty: [],
    async read({ budget, x, from, to }, signal) {
      const groups = opts.groups().filter((g) => g.ids.length >= 2);
      const ids = groups.flatMap((g) => g.ids);
      const [bands, lines] = await Promise.all([
        Promise.all(groups.map((g) => api.band({ experimentIds: g.ids, name: opts.name, budget, x, from, to }, signal))),
        opts.runs?.() && ids.length > 0
          ? api.compare({ ids, metrics: [opts.name], budget, x, from, to }, signal).then((r) => {
              const names = new Map(r.experiments.map((e) => [e.id, e.name]));
              return linesOf(r, opts.name).map((l) => ({ ...l, name: names.get(l.id) ?? l.id }));
            })
          : Promise.resolve([]),
      ]);
      return groups.flatMap((g, i): GroupBand[] => {
        const b = bands[i]!;
        if (b.experiments.length === 0) return [];
        const runs = lines.filter((l) => g.ids.includes(l.id));
        return [{ id: g.id, label: g.label, n: Math.max(0, ...b.n), envelope: bandEnvelope(b, opts.spread()), runs }];
      });
    },
    held: () => null,
    append: (data) => Promise.resolve(data),
    appendErrors: 'retry',
  };
}
