import { SvelteMap } from 'svelte/reactivity';
import { api, type Experiment } from '$lib/api';
import { LIMITS } from '$lib/generated/limits';

/**
 * Last values of one metric for the dashboard's "Δ vs reference" column. References that are
 * rows of the list already carry their last values; the others are read in compare requests of
 * as many ids as one compare read takes, at one bucket each.
 */
export class ReferenceValues {
  readonly values = new SvelteMap<string, number | string | null>();
  // Bookkeeping only: nothing renders from it.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private asked = new Set<string>();

  constructor(readonly metric: string) {}

  async ensure(rows: readonly Experiment[]): Promise<void> {
    // eslint-disable-next-line svelte/prefer-svelte-reactivity
    const byId = new Map(rows.map((r) => [r.id, r]));
    const missing: string[] = [];
    for (const r of rows) {
      const ref = r.referenceId;
      if (!ref || this.asked.has(ref)) continue;
      this.asked.add(ref);
      const loaded = byId.get(ref);
      if (loaded) this.values.set(ref, loaded.latestMetrics[this.metric] ?? null);
      else missing.push(ref);
    }
    for (let i = 0; i < missing.length; i += LIMITS.compareExperiments) {
      const chunk = missing.slice(i, i + LIMITS.compareExperiments);
      try {
        const res = await api.compare({ ids: chunk, metrics: [this.metric], budget: 1 });
        for (const e of res.experiments) this.values.set(e.id, e.metrics[0]?.last ?? null);
      } catch {
        // An unreadable reference (another workspace) leaves its cells blank.
        for (const id of chunk) this.values.set(id, null);
      }
    }
  }
}
