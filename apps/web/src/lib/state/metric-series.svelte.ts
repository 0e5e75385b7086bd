import { api } from '$lib/api';
import { appendEnvelope, emptyEnvelope, toEnvelope, type Envelope } from '$lib/chart/envelope';
import { handleError } from './toasts.svelte';

/**
 * The downsampled data behind one chart. It asks for as many buckets as the chart has pixels,
 * re-asks when zoomed, and while a run is live fetches only the steps after the last it has.
 */
export class MetricSeries {
  envelope = $state.raw<Envelope>(emptyEnvelope());
  zoom = $state<{ from: number; to: number } | null>(null);
  loading = $state(false);
  requests = 0;
  budget = 0;
  private controller: AbortController | null = null;
  private appending = false;

  constructor(
    readonly experimentId: string,
    readonly name: string,
  ) {}

  /** Full read of the visible range at `budget` buckets (the plot's width in pixels). */
  async load(budget: number): Promise<void> {
    this.budget = Math.max(1, Math.min(20_000, Math.round(budget)));
    this.controller?.abort();
    const controller = (this.controller = new AbortController());
    this.loading = true;
    try {
      this.requests++;
      const s = await api.series(
        this.experimentId,
        { name: this.name, budget: this.budget, from: this.zoom?.from, to: this.zoom?.to },
        controller.signal,
      );
      if (!controller.signal.aborted) this.envelope = toEnvelope(s);
    } catch (e) {
      handleError(e);
    } finally {
      if (this.controller === controller) this.loading = false;
    }
  }

  /** Live update: fetch only (known end, lastStep], keeping the current bucket width. */
  async extendTo(lastStep: number): Promise<void> {
    const e = this.envelope;
    if (this.zoom || this.loading || this.appending || e.xs.length === 0 || lastStep <= e.to) return;
    // After many appends, re-downsample so the chart keeps about one bucket per pixel.
    if (e.xs.length > 2 * this.budget) return this.load(this.budget);
    const from = e.to + 1;
    const budget = Math.max(1, Math.min(20_000, Math.ceil((lastStep - from + 1) / e.bucketWidth)));
    this.appending = true;
    try {
      this.requests++;
      const s = await api.series(this.experimentId, { name: this.name, budget, from, to: lastStep });
      if (this.envelope === e) this.envelope = appendEnvelope(e, toEnvelope(s));
    } catch (err) {
      handleError(err);
    } finally {
      this.appending = false;
    }
  }

  zoomTo(from: number, to: number): Promise<void> {
    this.zoom = { from: Math.floor(from), to: Math.ceil(to) };
    return this.load(this.budget);
  }

  resetZoom(): Promise<void> {
    this.zoom = null;
    return this.load(this.budget);
  }

  dispose(): void {
    this.controller?.abort();
  }
}
