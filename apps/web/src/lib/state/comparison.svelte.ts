import { SvelteSet } from 'svelte/reactivity';
import { api, type CompareResult, type XAxis } from '$lib/api';
import { colorOf } from '$lib/chart/palette';
import { LIMITS } from '$lib/generated/limits';
import { handleError } from './toasts.svelte';

export const MAX_COMPARE = LIMITS.compareExperiments;
const POLL_MS = 1500;
/** The server answers at most this many buckets (experiments × metrics × budget) per compare read. */
const MAX_COMPARE_BUCKETS = LIMITS.compareBuckets;
/** Metrics the server picks when a compare read names none. */
const DEFAULT_METRICS = LIMITS.compareDefaultMetrics;
/** Metrics one compare read may name. */
export const MAX_METRICS = LIMITS.compareMetrics;

/**
 * The compare page: which experiments (up to 50), which one is the reference for this view
 * (no write: it only changes the read's `referenceId`), which are hidden, and the one compare
 * read that feeds every chart and table — plus, once the wall-time axis is chosen, one more
 * compare read by time for every chart.
 */
export class Comparison {
  result = $state.raw<CompareResult | null>(null);
  /** The same metrics bucketed by wall time (`x=time`); null until the time axis is first shown. */
  /** The page's read on the axis other than steps last asked for (wall time, relative, a metric). */
  axisResult = $state.raw<CompareResult | null>(null);
  referenceId = $state<string | null>(null);
  /**
   * While any compared run is running: a 1-bucket compare read every 1.5 s (last, best, Δ,
   * counts and statuses, no curves) for the tables; charts then read only the steps after theirs.
   */
  live = $state.raw<CompareResult | null>(null);
  loading = $state(false);
  readonly hidden = new SvelteSet<string>();
  private controller: AbortController | null = null;
  private axisController: AbortController | null = null;
  private axisAsked: XAxis | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private polling = false;

  /** The metrics the user picked (null: the server's default pick). */
  picked = $state.raw<string[] | null>(null);

  constructor(
    readonly ids: string[],
    private readonly plotWidth: number,
  ) {}

  /** A pixel per bucket, within the server's per-response cap for this many experiments and metrics. */
  private get budget(): number {
    const metrics = this.picked?.length ?? DEFAULT_METRICS;
    const cap = Math.floor(MAX_COMPARE_BUCKETS / (Math.max(this.ids.length, 1) * Math.max(metrics, 1)));
    return Math.max(1, Math.min(this.plotWidth, cap));
  }

  /** Compares these metrics (at most the server's 50) instead of the default pick; the time read follows. */
  pick(metrics: string[]): Promise<void> {
    this.picked = metrics.slice(0, MAX_METRICS);
    this.axisResult = null;
    this.axisController?.abort();
    this.axisController = null;
    this.axisAsked = null;
    return this.load();
  }

  get experiments() {
    return (this.result?.experiments ?? []).map((e, i) => ({ ...e, color: colorOf(i) }));
  }

  /** The experiments with their freshest summaries (the live read's, once there is one). */
  get current() {
    return (this.live ?? this.result)?.experiments.map((e, i) => ({ ...e, color: colorOf(i) })) ?? [];
  }

  /** Per metric, the last step any compared run has logged (from the freshest read). */
  get lastSteps(): ReadonlyMap<string, number> {
    // A scratch map, rebuilt on each read: nothing observes it.
    // eslint-disable-next-line svelte/prefer-svelte-reactivity
    const out = new Map<string, number>();
    for (const e of (this.live ?? this.result)?.experiments ?? [])
      for (const m of e.metrics) out.set(m.name, Math.max(out.get(m.name) ?? -Infinity, m.lastStep));
    return out;
  }

  startLive(): void {
    this.polling = true;
    this.schedule();
  }

  stopLive(): void {
    this.polling = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.poll(), POLL_MS);
  }

  private async poll(): Promise<void> {
    const base = this.live ?? this.result;
    if (!this.polling) return;
    if (base && base.experiments.some((e) => e.status === 'running')) {
      try {
        const metrics = base.metrics.map((m) => m.name);
        const r = await api.compare({ ids: this.ids, metrics, budget: 1, referenceId: this.referenceId });
        if (this.polling && r.referenceId === this.referenceId) this.live = r;
      } catch {
        // A missed poll is retried on the next tick; an error would only repeat every 1.5 s.
      }
    }
    if (this.polling) this.schedule();
  }

  async load(): Promise<void> {
    if (this.ids.length === 0) return;
    this.controller?.abort();
    const c = (this.controller = new AbortController());
    this.loading = true;
    try {
      const r = await api.compare(
        { ids: this.ids, metrics: this.picked ?? undefined, budget: this.budget, referenceId: this.referenceId },
        c.signal,
      );
      if (!c.signal.aborted) {
        this.result = r;
        this.live = null;
      }
    } catch (e) {
      if (!c.signal.aborted) handleError(e);
    } finally {
      if (this.controller === c) this.loading = false;
    }
  }

  /** The page's read for an axis: the step read, or the read of `ensureAxis`. */
  overview(x: XAxis): CompareResult | null {
    if (x === 'step') return this.result;
    const r = this.axisResult;
    const first = r?.experiments.flatMap((e) => e.metrics)[0];
    return r && first?.series.x === x ? r : null;
  }

  /** Starts the read on axis `x` (wall time, relative, metric:<name>) once, after the step read named the metrics. */
  ensureAxis(x: XAxis): void {
    if (x === 'step' || !this.result || this.axisAsked === x) return;
    void this.loadAxis(x);
  }

  async loadAxis(x: XAxis): Promise<void> {
    const step = this.result;
    if (!step) return;
    this.axisController?.abort();
    this.axisAsked = x;
    const c = (this.axisController = new AbortController());
    try {
      const metrics = step.metrics.map((m) => m.name);
      const r = await api.compare({ ids: this.ids, metrics, budget: this.budget, x, referenceId: this.referenceId }, c.signal);
      if (!c.signal.aborted) this.axisResult = r;
    } catch (e) {
      if (!c.signal.aborted) {
        this.axisAsked = null;
        handleError(e);
      }
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
