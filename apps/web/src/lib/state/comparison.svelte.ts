import { SvelteSet } from 'svelte/reactivity';
import { api, type CompareResult } from '$lib/api';
import { colorOf } from '$lib/chart/palette';
import { handleError } from './toasts.svelte';

export const MAX_COMPARE = 50;

/**
 * The compare page: which experiments (up to 50), which one is the reference for this view
 * (no write: it only changes the read's `referenceId`), which are hidden, and the one compare
 * read that feeds every chart and table.
 */
export class Comparison {
  result = $state.raw<CompareResult | null>(null);
  referenceId = $state<string | null>(null);
  loading = $state(false);
  readonly hidden = new SvelteSet<string>();
  private controller: AbortController | null = null;

  constructor(
    readonly ids: string[],
    private budget: number,
  ) {}

  get experiments() {
    return (this.result?.experiments ?? []).map((e, i) => ({ ...e, color: colorOf(i) }));
  }

  async load(): Promise<void> {
    if (this.ids.length === 0) return;
    this.controller?.abort();
    const c = (this.controller = new AbortController());
    this.loading = true;
    try {
      const r = await api.compare({ ids: this.ids, budget: this.budget, referenceId: this.referenceId }, c.signal);
      if (!c.signal.aborted) this.result = r;
    } catch (e) {
      if (!c.signal.aborted) handleError(e);
    } finally {
      if (this.controller === c) this.loading = false;
    }
  }

  makeReference(id: string | null): Promise<void> {
    this.referenceId = id;
    return this.load();
  }

  toggle(id: string): void {
    if (this.hidden.has(id)) this.hidden.delete(id);
    else this.hidden.add(id);
  }
}

type HpValue = string | number | boolean | null | undefined;

/** Hyperparameter rows (key → value per experiment); `different` is true when not all values match. */
export function hyperparamRows(experiments: { hyperparams: { key: string; value: HpValue }[] }[]) {
  // A scratch set, local to this computation.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  const keys = [...new Set(experiments.flatMap((e) => e.hyperparams.map((h) => h.key)))].sort();
  return keys.map((key) => {
    const values = experiments.map((e) => e.hyperparams.find((h) => h.key === key)?.value);
    const first = JSON.stringify(values[0] ?? null);
    return { key, values, different: values.some((v) => JSON.stringify(v ?? null) !== first) };
  });
}
