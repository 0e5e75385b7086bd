import { num, type CompareExperiment } from '$lib/api';

export interface GroupDelta {
  id: string;
  label: string;
  color: string;
  /** Runs with a value for the metric. */
  n: number;
  mean: number | null;
  delta: number | null;
  pct: number | null;
  runs: { id: string; value: number | null; delta: number | null; pct: number | null }[];
}

/**
 * Groups against a reference group: each run's value (best by the metric's direction, else last),
 * each group's mean of those, and Δ / %Δ (of |reference mean|) of both against the reference
 * group's mean.
 *
 * @example
 *   groupDeltas({ experiments, groups, referenceId: 'lr=0.1', metric: 'loss' });
 */
export function groupDeltas(opts: {
  experiments: CompareExperiment[];
  groups: { id: string; label: string; ids: string[]; color: string }[];
  referenceId: string;
  metric: string;
}): GroupDelta[] {
  const valueOf = new Map(
    opts.experiments.map((e) => {
      const m = e.metrics.find((x) => x.name === opts.metric);
      const v = m ? num(m.best ?? m.last) : NaN;
      return [e.id, Number.isFinite(v) ? v : null] as const;
    }),
  );
  const meanOf = (ids: string[]) => {
    const vs = ids.map((id) => valueOf.get(id) ?? null).filter((v): v is number => v !== null);
    return { n: vs.length, mean: vs.length ? vs.reduce((a, v) => a + v, 0) / vs.length : null };
  };
  const ref = opts.groups.find((g) => g.id === opts.referenceId);
  const refMean = ref ? meanOf(ref.ids).mean : null;
  const against = (v: number | null) =>
    v === null || refMean === null
      ? { delta: null, pct: null }
      : { delta: v - refMean, pct: refMean === 0 ? null : (100 * (v - refMean)) / Math.abs(refMean) };
  return opts.groups.map((g) => {
    const { n, mean } = meanOf(g.ids);
    return {
      id: g.id,
      label: g.label,
      color: g.color,
      n,
      mean,
      ...against(mean),
      runs: g.ids.map((id) => ({ id, value: valueOf.get(id) ?? null, ...against(valueOf.get(id) ?? null) })),
    };
  });
}
